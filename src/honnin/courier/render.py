"""Message templates: one folder per message type, one file per channel, ja and en.

`code/email.subject.txt`, `code/email.txt` and `code/email.html` for mail; `code/sms.txt` for
a text message; `code/voice.txt` for the script of a call. Templates call `_("text {name}",
name=value)`, the same gettext as the Python code, so one catalog holds every string. HTML
mail gets its CSS inlined (css-inline), because many mail clients drop `<style>` blocks. No
remote images, no tracking pixels.

What a message's parameters mean (`purpose_text`, the hints) is decided by whoever enqueues it
(the code engine); the courier only renders them.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from functools import lru_cache
from typing import Any

import css_inline

from honnin.i18n import template_environment

# Parameters a template may use that not every message has.
OPTIONAL_PARAMS: dict[str, Any] = {
    "account_hint": None,
    "app_name": None,
    "code": None,
    "link": None,
    "purpose_text": "",
}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Brand:
    """How the service names itself in messages, and the host its pages are on (a text
    message's WebOTP line names it, so that only those pages may read the code from it)."""

    service_name: str
    host: str = "localhost"


_inliner = css_inline.CSSInliner(keep_style_tags=False)

# Messages that differ only in their code look alike: each is rendered (templates, then CSS
# inlining, most of a message's CPU) once with this stand-in, which the code then replaces. The
# code is never in the cache. The stand-in is letters only, so no escaping can change it.
_CODE_STAND_IN = "HonninCodeStandInQzXv"
_CACHE_SIZE = 256


@lru_cache(maxsize=_CACHE_SIZE)
def render_shape(
    template: str, locale: str, params: tuple[tuple[str, Any], ...], brand: Brand
) -> RenderedEmail:
    """A message with the stand-in for its code, kept for the next one that looks the same.
    Everything it depends on is in its arguments (templates read nothing else)."""
    return _render(template, locale, dict(params), brand)


def render_email(template: str, locale: str, params: dict[str, Any], brand: Brand) -> RenderedEmail:
    code = params.get("code")
    if not isinstance(code, str) or not code.isalnum():
        return _render(template, locale, params, brand)
    try:
        key = tuple(sorted({**params, "code": _CODE_STAND_IN}.items()))
        hash(key)
    except TypeError:  # a parameter that cannot be a key (a list): rendered afresh
        return _render(template, locale, params, brand)
    shape = render_shape(template, locale, key, brand)
    return RenderedEmail(*(part.replace(_CODE_STAND_IN, code) for part in astuple(shape)))


def _context(locale: str, params: dict[str, Any], brand: Brand) -> dict[str, Any]:
    return {**OPTIONAL_PARAMS, **params, "brand": brand, "locale": locale}


def _render(template: str, locale: str, params: dict[str, Any], brand: Brand) -> RenderedEmail:
    env = template_environment("honnin.courier", locale)
    context = _context(locale, params, brand)
    subject = env.get_template(f"{template}/email.subject.txt").render(context)
    text = env.get_template(f"{template}/email.txt").render(context)
    html = env.get_template(f"{template}/email.html").render(context)
    return RenderedEmail(" ".join(subject.split()), text, _inliner.inline(html))


def render_text(
    template: str, medium: str, locale: str, params: dict[str, Any], brand: Brand
) -> str:
    """A plain-text message of `medium` (`sms`, `voice`): its lines, blank ones dropped."""
    env = template_environment("honnin.courier", locale)
    text = env.get_template(f"{template}/{medium}.txt").render(_context(locale, params, brand))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())

"""Message templates (Jinja2, one set per message type, text and HTML, ja and en).

Templates call `_("text {name}", name=value)`, the same gettext as the Python code, so one
catalog holds every string. HTML mail gets its CSS inlined (css-inline), because many mail
clients drop `<style>` blocks. No remote images, no tracking pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import css_inline

from honnin.i18n import LazyText, _, template_environment

# What each purpose is called in a message ("This code is for: …").
PURPOSES: dict[str, LazyText] = {
    "verification": _("verifying this email address"),
    "verify_email": _("verifying your email address"),
    "sign_in": _("signing in"),
    "sign_up": _("creating your account"),
    "verify_identity": _("verifying your identity"),
}


# Parameters a template may use that not every message has.
OPTIONAL_PARAMS: dict[str, Any] = {"account_hint": None, "app_name": None, "code": None}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Brand:
    """How the service names itself in messages."""

    service_name: str


_inliner = css_inline.CSSInliner(keep_style_tags=False)


def render_email(template: str, locale: str, params: dict[str, Any], brand: Brand) -> RenderedEmail:
    env = template_environment("honnin.courier", locale)
    purpose = PURPOSES.get(params.get("purpose", ""))
    context = {
        **OPTIONAL_PARAMS,
        **params,
        "brand": brand,
        "locale": locale,
        "purpose_text": purpose.render(locale) if purpose else "",
    }
    subject = env.get_template(f"email/{template}.subject.txt").render(context)
    text = env.get_template(f"email/{template}.txt").render(context)
    html = env.get_template(f"email/{template}.html").render(context)
    return RenderedEmail(" ".join(subject.split()), text, _inliner.inline(html))

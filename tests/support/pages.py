"""Driving the pages like a browser without JavaScript: follow links, fill and post forms."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (name, value) of submits


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = Form(a.get("method", "get").lower(), a.get("action", ""))
            self.forms.append(self._current)
        elif self._current is not None and tag == "input":
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox") and "checked" not in a:
                return  # as a browser: only a checked one is sent
            if a.get("name"):
                self._current.fields[a["name"]] = a.get("value", "")
        elif self._current is not None and tag == "button" and a.get("name"):
            self._current.buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms_in(html: str) -> list[Form]:
    """The forms of a page and what a browser would send with each (bench/flows.py too)."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


@dataclass
class Page:
    response: httpx.Response

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def html(self) -> str:
        return self.response.text

    @property
    def path(self) -> str:
        return self.response.url.path

    @property
    def text(self) -> str:
        """The visible text, tags removed, whitespace squeezed (for wording assertions)."""
        body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", self.html, flags=re.S)
        body = re.sub(r"</?(span|wbr|strong|em|b|i)\b[^>]*>", "", body)  # inline: no space
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())

    @property
    def alert(self) -> str | None:
        match = re.search(r'<div class="alert" role="alert"[^>]*>(.*?)</div>', self.html, re.S)
        return " ".join(html.unescape(match.group(1)).split()) if match else None

    def element(self, element_id: str) -> dict[str, str]:
        """The attributes of the element with this id (`{}` if there is none)."""
        found: dict[str, str] = {}

        class _Find(HTMLParser):
            def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                if not found and ("id", element_id) in attrs:
                    found.update({"tag": tag, **{k: v or "" for k, v in attrs}})

        _Find().feed(self.html)
        return found

    def forms(self) -> list[Form]:
        return forms_in(self.html)

    def links(self) -> list[str]:
        """Every link's address, as written (entities decoded)."""
        return [html.unescape(href) for href in re.findall(r'<a\b[^>]*\bhref="([^"]*)"', self.html)]

    def form(self, action: str) -> Form:
        """The form that performs `action` (hidden field, or a named submit button)."""
        for form in self.forms():
            if form.fields.get("action") == action or ("action", action) in form.buttons:
                return form
        raise AssertionError(f"no form for {action!r} on {self.path}: {self.text[:500]}")

    def has(self, action: str) -> bool:
        try:
            self.form(action)
        except AssertionError:
            return False
        return True


class PageClient:
    """One browser: its cookies persist between requests."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def get(self, path: str) -> Page:
        return Page(await self.client.get(path, follow_redirects=True))

    async def submit(self, page: Page, action: str, **fields: str) -> Page:
        form = page.form(action)
        data = {**form.fields, **fields}
        if ("action", action) in form.buttons:
            data["action"] = action
        response = await self.client.post(form.action, data=data, follow_redirects=True)
        return Page(response)

    async def post(self, path: str, page: Page, **fields: str) -> Page:
        """Post a form found by its target path (language switch, sign out, switch account)."""
        for form in page.forms():
            if form.action == path and all(form.fields.get(k, v) == v for k, v in fields.items()):
                data = {**form.fields, **fields}
                return Page(await self.client.post(path, data=data, follow_redirects=True))
        raise AssertionError(f"no form posting to {path} on {page.path}")

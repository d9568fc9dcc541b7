"""Errors on pages: a page that says what happened and what to do, in the reader's language."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from honnin.web.templating import render


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code=status, status=status, message=message)

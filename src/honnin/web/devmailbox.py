"""`/dev/mailbox`: what the dev SMTP server received, newest first (dev mode only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from honnin.courier.devmailbox import DevMailbox
from honnin.errors import NotFound
from honnin.i18n import _
from honnin.runtime import runtime_of
from honnin.web.templating import render

router = APIRouter(prefix="/dev/mailbox", include_in_schema=False)


def _mailbox(request: Request) -> DevMailbox:
    return DevMailbox(runtime_of(request).settings.data_dir / "mailbox")


@router.get("", response_class=HTMLResponse)
async def mailbox(request: Request) -> HTMLResponse:
    return render(request, "dev/mailbox.html", mails=_mailbox(request).list())


@router.get("/{key}", response_class=HTMLResponse)
async def message(request: Request, key: str) -> HTMLResponse:
    mail = _mailbox(request).get(key)
    if mail is None:
        raise NotFound(_("This message is not in the dev mailbox."))
    return render(request, "dev/message.html", mail=mail)


@router.get("/{key}/html", response_class=HTMLResponse)
async def message_html(request: Request, key: str) -> HTMLResponse:
    mail = _mailbox(request).get(key)
    if mail is None or mail.html is None:
        raise NotFound(_("This message is not in the dev mailbox."))
    return HTMLResponse(mail.html)

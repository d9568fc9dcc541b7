"""The link in the notice of a scheduled change: "this wasn't me, cancel it" (a removal of the
last security info, or a recovery: that one also secures the account, `security.recovery`).

It works without signing in (the person may have lost every way in, or be locked out by the
person who asked for the change): the secret token in the link is the proof. Opening the link
only shows what it would cancel; the cancel itself is a POST (with CSRF), so a mail scanner that
follows links cancels nothing.
"""

from __future__ import annotations

import urllib.parse
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from honnin.audit.agents import describe
from honnin.audit.service import Origin
from honnin.errors import HonninError
from honnin.http.status import status_of
from honnin.jobs.models import JobStatus
from honnin.runtime import runtime_of
from honnin.web.browser import browser
from honnin.web.pages import form_fields, page, redirect
from honnin.web.templating import page_locale

router = APIRouter(include_in_schema=False)


async def _refused(request: Request, error: HonninError) -> Response:
    message = error.message.render(page_locale(request))
    return await page(
        request,
        "change.html",
        status_code=status_of(error),
        change=None,
        cancelled=None,
        kind=None,
        error=message,
    )


@router.get("/account/changes/{change_id}")
async def show_change(request: Request, change_id: str) -> Response:
    """The change and a button to cancel it; once cancelled (the POST comes back here), that
    it was."""
    token = request.query_params.get("token", "")
    runtime = runtime_of(request)
    try:
        async with runtime.db.transaction(write=False) as tx:
            job = await runtime.security.link_target(tx, change_id, token, cancelled=True)
    except HonninError as error:
        return await _refused(request, error)
    hint = job.payload.get("hint", "")
    if job.status == JobStatus.CANCELLED:
        return await page(request, "change.html", change=None, cancelled=hint, kind=job.kind)
    return await page(
        request, "change.html", change=job, cancelled=None, kind=job.kind, hint=hint, token=token
    )


@router.post("/account/changes/{change_id}")
async def cancel_change(request: Request, change_id: str) -> Response:
    runtime = runtime_of(request)
    try:
        fields = await form_fields(request)
        origin = Origin(browser(request).ip, describe(request.headers.get("user-agent")))
        token = fields.get("token", "")
        await runtime.security.cancel_by_link(change_id, token, origin)
    except HonninError as error:
        return await _refused(request, error)
    query = urllib.parse.urlencode({"token": token})
    return redirect(f"/account/changes/{uuid.UUID(change_id)}?{query}")

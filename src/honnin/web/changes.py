"""The links in notices that act: "this wasn't me, cancel it" in the notice of a scheduled
change (a removal of the last security info; a recovery, which also secures the account), and
"this wasn't me, secure my account" in the notice of a new browser's sign-in.

They work without signing in (the person may have lost every way in, or be locked out by the
person who asked for the change): the secret token in the link is the proof. Opening a link
only shows what it would do; the act itself is a POST (with CSRF), so a mail scanner that
follows links does nothing.
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


@router.get("/account/secure/{session_id}")
async def show_secure(request: Request, session_id: str) -> Response:
    """ "This wasn't me" from a new-browser notice: what securing the account does, and its
    button (a GET secures nothing: mail scanners follow links)."""
    token = request.query_params.get("token", "")
    done = request.query_params.get("done") == "1"  # where the POST comes back
    runtime = runtime_of(request)
    try:
        async with runtime.db.transaction(write=False) as tx:
            await runtime.security.secure_link_target(tx, session_id, token, used=done)
    except HonninError as error:
        return await _refused(request, error)
    return await page(request, "secure.html", session_id=session_id, token=token, done=done)


@router.post("/account/secure/{session_id}")
async def secure(request: Request, session_id: str) -> Response:
    runtime = runtime_of(request)
    try:
        fields = await form_fields(request)
        origin = Origin(browser(request).ip, describe(request.headers.get("user-agent")))
        token = fields.get("token", "")
        await runtime.codes.throttle.attempt(browser(request).binding.requester)
        await runtime.security.secure_by_link(session_id, token, origin)
    except HonninError as error:
        return await _refused(request, error)
    query = urllib.parse.urlencode({"token": token, "done": "1"})
    return redirect(f"/account/secure/{uuid.UUID(session_id)}?{query}")

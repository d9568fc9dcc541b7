"""Delivery reports from SMS and voice providers: `/api/hooks/{channel}/{key}/{message id}`.

The path names the provider (the channel and the provider's key) that was given this URL for
the message; that provider decides whether the report proves it comes from it (a
Twilio signature, Kannel's secret in the URL) before anything is read from it. A report that
does not is refused with 403 and changes nothing.
"""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Request, Response

from honnin.courier.channels.http import Callback, Forbidden, HttpProvider
from honnin.errors import HonninError, NotFound
from honnin.i18n import _
from honnin.runtime import runtime_of

router = APIRouter(include_in_schema=False)


class ReportRefused(HonninError):
    code = "forbidden"


@router.api_route("/api/hooks/{channel}/{key}/{message_id}", methods=["GET", "POST"])
async def delivery_report(channel: str, key: str, message_id: str, request: Request) -> Response:
    runtime = runtime_of(request)
    provider = next(
        (
            provider
            for provider in runtime.channels.get(channel, [])
            if isinstance(provider, HttpProvider) and provider.key == key
        ),
        None,
    )
    if provider is None:
        raise NotFound(_("There is nothing at this address."))
    form: dict[str, str] = {}
    if request.method == "POST":
        body = (await request.body()).decode("utf-8", errors="replace")
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
    callback = Callback(
        message_id=message_id,
        # the URL as the provider was given it (behind a proxy, the request's own differs)
        url=provider.report_url(message_id),
        query=dict(request.query_params),
        form=form,
        headers={name.lower(): value for name, value in request.headers.items()},
    )
    try:
        report = await provider.read_report(callback)
    except Forbidden as refused:
        raise ReportRefused(_("This delivery report is not signed by the provider.")) from refused
    if not await runtime.reports.record(report, provider.describe()):
        raise NotFound(_("There is no message with this id."))
    return Response(status_code=204)

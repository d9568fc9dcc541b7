"""Sending notices: one message to each of the account's ways, in the transaction of the change.

A notice goes to every verified email address (by email) and every verified phone that can
receive texts (by SMS; a landline gets none: a call to read a notice out would wake people
for nothing), plus any the change took away (`also`: a removed address hears of its removal).
It is in the outbox of the same transaction as the change, so a change that rolls back sends
nothing and one that commits sends each notice once. A link that acts (cancel a removal, "this
wasn't me") is a secret: it is sealed with the message and erased once it is sent.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from honnin.accounts.service import AccountRecord
from honnin.courier.outbox import Outbox
from honnin.db import Tx
from honnin.destinations.kinds import EMAIL, PHONE, Destinations, mask
from honnin.destinations.phones import SMS
from honnin.localtime import local_times_for
from honnin.notices.texts import NOTICES
from honnin.proofs.service import verified_proofs

TEMPLATE = "notice"


@dataclass(frozen=True)
class Recipient:
    kind: str
    value: str


class Notices:
    def __init__(
        self, outbox: Outbox, destinations: Destinations, service_name: str, base_url: str
    ) -> None:
        self.outbox = outbox
        self.destinations = destinations
        self.service_name = service_name
        self.base_url = base_url.rstrip("/")

    async def send(
        self,
        tx: Tx,
        account: AccountRecord,
        action: str,
        now: datetime,
        *,
        account_hint: str,
        dates: dict[str, datetime] | None = None,
        link: str | None = None,
        also: list[Recipient] | None = None,
        **params: str,
    ) -> list[uuid.UUID]:
        """Queue the notice of `action` (`notices.texts`) to each of the account's ways and
        `also`; `dates` are shown in the account's time zone; `link`: a path that acts, sealed
        (without one, the notice links to the security page). The ids of the messages."""
        return await self.send_to(
            tx,
            await self._recipients(tx, account.id, also or []),
            action,
            now,
            locale=account.locale,
            time_zone=account.time_zone,
            account_hint=account_hint,
            dates=dates,
            link=link,
            everyone=True,
            **params,
        )

    async def send_to(
        self,
        tx: Tx,
        recipients: list[Recipient],
        action: str,
        now: datetime,
        *,
        locale: str,
        time_zone: str | None,
        account_hint: str,
        dates: dict[str, datetime] | None = None,
        link: str | None = None,
        everyone: bool = False,
        **params: str,
    ) -> list[uuid.UUID]:
        """The notice of `action` to these recipients alone (a recovery's new address, which
        is not yet the account's), in this language and zone. `everyone`: they are all of
        the account's ways (the notice says so); else it has no link unless given one."""
        text = NOTICES[action]
        times = local_times_for(time_zone, locale)
        values: dict[str, Any] = {
            "service": self.service_name,
            "account": account_hint,
            "when": times.date_time_and_zone(now),
            **{name: times.date_time_and_zone(at) for name, at in (dates or {}).items()},
            **params,
        }
        # a text gives dates alone: a time with its zone (and its narrow spaces, which only
        # UCS-2 can carry) would make an English notice three times as many parts
        texted = {
            **values,
            "when": times.date(now),
            **{name: times.date(at) for name, at in (dates or {}).items()},
            "link": "{link}",
        }
        shown = {
            "subject": replace(text.subject, params=values).render(locale),
            "lines": [replace(line, params=values).render(locale) for line in text.lines],
            "link_text": text.link_text.render(locale) if text.link_text else "",
            "action": action,
            "everyone": everyone,
        }
        url = f"{self.base_url}{link}" if link else f"{self.base_url}/account/security"
        if not link and not everyone:
            url = ""  # not the account's: nothing to review there
        ids = []
        for recipient in recipients:
            channel = EMAIL if recipient.kind == EMAIL else SMS
            message_params = {**shown, "destination_hint": mask(recipient.kind, recipient.value)}
            if channel == SMS:
                short = replace(text.sms, params=texted).render(locale)
                message_params = {"sms_text": short, "action": action}
            secret = {"link": url} if link else None
            if not link:
                message_params["link"] = url
            message_id, _status = await self.outbox.enqueue(
                tx,
                channel=channel,
                recipient=recipient.value,
                template=TEMPLATE,
                locale=locale,
                params=message_params,
                secret_params=json.dumps(secret).encode() if secret else None,
            )
            ids.append(message_id)
        return ids

    async def _recipients(
        self, tx: Tx, account_id: uuid.UUID, also: list[Recipient]
    ) -> list[Recipient]:
        found: list[Recipient] = []
        for proof in await verified_proofs(tx, account_id):
            found.append(Recipient(proof.kind, proof.value))
        found += also
        out: list[Recipient] = []
        for recipient in found:
            if recipient not in out and self.reaches(recipient):
                out.append(recipient)
        return out

    def reaches(self, recipient: Recipient) -> bool:
        """Whether a notice can reach it: a landline, or a phone where no SMS provider is
        configured, hears nothing (a call to read a notice out would wake people for
        nothing)."""
        return recipient.kind != PHONE or SMS in self.destinations.reach(PHONE, recipient.value)

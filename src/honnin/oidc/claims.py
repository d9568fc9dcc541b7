"""What the provider says about a person: the claims each scope opens, and how they signed in.

- `sub`: the account's id for a client with public subjects; otherwise its pairwise subject
  for the client's sector (`oidc.store.subject`).
- `amr` (RFC 8176) from the ways the session recorded: `pwd` for the password, `otp` for an
  emailed code or an authenticator app's, `sms` for a texted code, `tel` for a call, `swk` for
  a passkey that may be synced and `hwk` for one bound to its device, `user` when the
  authenticator verified the person, and `mfa` when two distinct steps were used.
- `acr`: `urn:honnin:acr:2fa` for two distinct steps (or a passkey that verified its person,
  which is something held and something known or been), else `urn:honnin:acr:1fa`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from honnin.authenticators.models import Passkey
from honnin.db import Tx, id_in
from honnin.destinations.kinds import EMAIL
from honnin.flows.ways.passkey import USER_VERIFIED
from honnin.proofs.models import Proof
from honnin.sessions.service import HOW

ACR_1FA = "urn:honnin:acr:1fa"
ACR_2FA = "urn:honnin:acr:2fa"
ACR_VALUES = (ACR_1FA, ACR_2FA)
# the channel a code went by (`how:<channel>` among the session's ways), as RFC 8176 names it
_BY_CHANNEL = {"email": "otp", "sms": "sms", "call": "tel"}


@dataclass(frozen=True)
class SignedInBy:
    """How the person signed in, as the tokens tell it."""

    amr: tuple[str, ...]
    acr: str


async def signed_in_by(tx: Tx, ways: tuple[str, ...]) -> SignedInBy:
    """`amr` and `acr` from a session's ways ("password", "proof:<id>", "app:<id>",
    "passkey:<id>", and how: "how:<channel>", `USER_VERIFIED`)."""
    methods: list[str] = []
    factors: set[str] = set()  # know, have, are: distinct steps are distinct factors
    channel = next(
        (w.removeprefix(HOW) for w in ways if w.startswith(HOW) and w != USER_VERIFIED), None
    )
    for way in ways:
        kind, _, key = way.partition(":")
        if kind == "password":
            methods.append("pwd")
            factors.add("know")
        elif kind == "proof":
            proof = await tx.session.get(Proof, id_in(key))
            if proof is not None:
                sent_by = channel or ("email" if proof.kind == EMAIL else "sms")
                methods.append(_BY_CHANNEL.get(sent_by, "otp"))
                factors.add(f"have:{way}")
        elif kind == "app":
            methods.append("otp")
            factors.add(f"have:{way}")
        elif kind == "passkey":
            passkey = await tx.session.get(Passkey, id_in(key))
            if passkey is not None:
                methods.append("swk" if passkey.backup_eligible else "hwk")
                factors.add(f"have:{way}")
                if USER_VERIFIED in ways:
                    methods.append("user")
                    factors.add("are")
    two = len({f.split(":")[0] for f in factors}) >= 2 or len(factors) >= 2
    if two:
        methods.append("mfa")
    return SignedInBy(tuple(dict.fromkeys(methods)), ACR_2FA if two else ACR_1FA)


async def user_claims(
    tx: Tx, account_id: uuid.UUID, scopes: set[str], *, locale: str, time_zone: str | None
) -> dict[str, Any]:
    """The claims the scopes open (never `sub`: it is per client)."""
    claims: dict[str, Any] = {}
    if "profile" in scopes:
        claims["locale"] = locale
        if time_zone:
            claims["zoneinfo"] = time_zone
    if scopes & {"email", "phone"}:
        proofs = list(
            await tx.session.scalars(
                select(Proof)
                .where(Proof.account_id == account_id, Proof.verified_at.is_not(None))
                .order_by(Proof.verified_at)
            )
        )
        email = next((p for p in proofs if p.kind == EMAIL), None)
        phone = next((p for p in proofs if p.kind != EMAIL), None)
        if "email" in scopes and email is not None:
            claims["email"] = email.value
            claims["email_verified"] = True
        if "phone" in scopes and phone is not None:
            claims["phone_number"] = phone.value
            claims["phone_number_verified"] = True
    return claims

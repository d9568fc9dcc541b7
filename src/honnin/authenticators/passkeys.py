"""Passkeys (WebAuthn, checked by py_webauthn): the relying party, the options a browser or an
app is given, and where an account's passkeys are kept.

- The relying party is the host of `HONNIN_BASE_URL`; the origins it accepts are that URL's
  and `HONNIN_WEBAUTHN_ORIGINS`. An IP address can never be a relying-party ID: with one,
  passkeys are not offered at all (`honnin serve` says so).
- A challenge is 32 random bytes, kept in the flow that asked for it and spent by the first
  answer, right or wrong (`flows.ways.passkey`): an answer for another flow's challenge, or
  the same answer twice, is refused.
- Registration asks for a discoverable credential (a resident key: sign in without typing a
  name) and prefers user verification; attestation is not asked for (`none`), so the
  authenticator's AAGUID names its maker only as a hint (`aaguids`).
- py_webauthn refuses a sign count that goes backwards; we compare the counts ourselves so
  that a possible clone is recorded (the caller logs it) rather than silently refused. A
  synced passkey reports 0 every time, which is no sign of anything.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from honnin.authenticators.aaguids import name_of
from honnin.authenticators.models import Passkey
from honnin.db import Tx
from honnin.errors import Conflict, HonninError, NotFound
from honnin.i18n import _

MAX_PASSKEYS = 20  # per account
# a passkey's name when neither its person nor its authenticator's maker gave one
DEFAULT_NAME = _("Passkey")
TIMEOUT_MS = 300_000  # how long a browser waits for the person (the flow bounds it too)


class PasskeyRefused(HonninError):
    code = "passkey_refused"


def refused() -> PasskeyRefused:
    return PasskeyRefused(
        _("That passkey wasn't accepted. Try again, or use a different verification option.")
    )


def unknown() -> PasskeyRefused:
    return PasskeyRefused(
        _(
            "This passkey isn't on any account here: it may have been removed. Enter your "
            "email address or phone number instead."
        )
    )


@dataclass(frozen=True)
class RelyingParty:
    id: str | None  # None: the base URL's host is an IP address, so no passkeys
    name: str
    origins: tuple[str, ...]

    @classmethod
    def of(cls, base_url: str, extra_origins: str, name: str) -> RelyingParty:
        parts = urlsplit(base_url)
        host = parts.hostname or ""
        origin = f"{parts.scheme}://{parts.netloc}"
        extra = tuple(o.strip() for o in extra_origins.split(",") if o.strip())
        return cls(None if is_ip(host) else host, name, (origin, *extra))

    @property
    def available(self) -> bool:
        return self.id is not None


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def new_challenge() -> str:
    return bytes_to_base64url(secrets.token_bytes(32))


@dataclass(frozen=True)
class PasskeyView:
    id: uuid.UUID
    name: str  # the person's (may be empty: then the authenticator's, or "passkey")
    authenticator: str | None  # its maker, from the AAGUID (iCloud Keychain, 1Password…)
    created_at: datetime
    last_used_at: datetime | None
    synced: bool  # backup eligible: it may be on the person's other devices too


def _view(passkey: Passkey) -> PasskeyView:
    return PasskeyView(
        passkey.id,
        passkey.name,
        name_of(passkey.aaguid),
        passkey.created_at,
        passkey.last_used_at,
        passkey.backup_eligible,
    )


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for name in filter(None, passkey.transports.split(",")):
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue  # a transport this library does not know: the browser finds its way
    return PublicKeyCredentialDescriptor(id=passkey.credential_id, transports=transports)


async def _rows(tx: Tx, account_id: uuid.UUID) -> list[Passkey]:
    return list(
        await tx.session.scalars(
            select(Passkey)
            .where(Passkey.account_id == account_id)
            .order_by(Passkey.created_at, Passkey.id)
        )
    )


def creation_options(
    rp: RelyingParty,
    *,
    challenge: str,
    user_id: bytes,
    user_name: str,
    existing: list[Passkey],
) -> dict[str, Any]:
    """What `navigator.credentials.create()` is given (as JSON: PublicKeyCredentialCreation
    OptionsJSON), the account's passkeys excluded (one per authenticator)."""
    assert rp.id is not None
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_id,
        user_name=user_name,
        user_display_name=user_name,
        challenge=base64url_to_bytes(challenge),
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[_descriptor(p) for p in existing],
    )
    return dict(json.loads(options_to_json(options)))


def request_options(
    rp: RelyingParty, *, challenge: str, allow: list[Passkey] | None = None
) -> dict[str, Any]:
    """What `navigator.credentials.get()` is given: any passkey of this site (`allow` None: a
    sign-in without a name, the autofill list) or one of an account's."""
    assert rp.id is not None
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=base64url_to_bytes(challenge),
        timeout=TIMEOUT_MS,
        allow_credentials=[_descriptor(p) for p in allow or []],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return dict(json.loads(options_to_json(options)))


def _parsed(credential: str) -> dict[str, Any]:
    try:
        value = json.loads(credential)
    except (ValueError, RecursionError):  # not JSON, or nested past any sense
        raise refused() from None
    if not isinstance(value, dict):
        raise refused()
    return value


@dataclass(frozen=True)
class NewPasskey:
    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    backup_eligible: bool
    backed_up: bool
    user_verified: bool
    transports: str


def verify_new(rp: RelyingParty, credential: str, challenge: str) -> NewPasskey:
    """The browser's answer to `creation_options`, checked (its challenge, origin, relying
    party, signature); `PasskeyRefused` otherwise."""
    assert rp.id is not None
    value = _parsed(credential)
    try:
        verified = verify_registration_response(
            credential=value,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
        )
    except (WebAuthnException, ValueError, KeyError, TypeError, RecursionError):
        raise refused() from None
    response = value.get("response")
    transports = response.get("transports") if isinstance(response, dict) else None
    known = [t for t in transports or [] if isinstance(t, str)][:8]
    return NewPasskey(
        verified.credential_id,
        verified.credential_public_key,
        verified.sign_count,
        verified.aaguid,
        verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        verified.credential_backed_up,
        verified.user_verified,
        ",".join(known)[:200],
    )


@dataclass(frozen=True)
class Assertion:
    """A passkey's answer to a sign-in or verification, checked."""

    passkey: PasskeyView
    account_id: uuid.UUID
    user_verified: bool  # the authenticator verified the person (a fingerprint, a PIN)
    went_back: bool  # its sign count did not go up: it may have been cloned


def _credential_id(value: dict[str, Any]) -> bytes | None:
    """The credential's id, as the answer gives it (to find its passkey)."""
    raw = value.get("rawId") or value.get("id")
    if not isinstance(raw, str) or len(raw) > 1400:
        return None
    try:
        return base64url_to_bytes(raw)
    except ValueError:
        return None


async def check(
    tx: Tx,
    rp: RelyingParty,
    credential: str,
    challenge: str,
    now: datetime,
    *,
    account_id: uuid.UUID | None = None,
) -> Assertion:
    """The browser's answer to `request_options`, checked against its passkey (of
    `account_id`, if given), which is locked and updated (count, backup state, last used).
    `PasskeyRefused` otherwise."""
    assert rp.id is not None
    answer = _parsed(credential)
    found = _credential_id(answer)
    passkey = (
        await tx.session.scalar(
            select(Passkey).where(Passkey.credential_id == found).with_for_update()
        )
        if found
        else None
    )
    if passkey is None or (account_id is not None and passkey.account_id != account_id):
        raise unknown() if account_id is None else refused()
    try:
        verified = verify_authentication_response(
            credential=answer,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,  # compared below, to record rather than refuse
        )
    except (WebAuthnException, ValueError, KeyError, TypeError, RecursionError):
        raise refused() from None
    went_back = (verified.new_sign_count > 0 or passkey.sign_count > 0) and (
        verified.new_sign_count <= passkey.sign_count
    )
    passkey.sign_count = max(passkey.sign_count, verified.new_sign_count)
    passkey.backed_up = verified.credential_backed_up
    passkey.last_used_at = now
    await tx.session.flush()
    return Assertion(_view(passkey), passkey.account_id, verified.user_verified, went_back)


# --- where they are kept ----------------------------------------------------------------


async def of_account(tx: Tx, account_id: uuid.UUID) -> list[PasskeyView]:
    return [_view(p) for p in await _rows(tx, account_id)]


async def rows_of(tx: Tx, account_id: uuid.UUID) -> list[Passkey]:
    """The account's passkeys as rows (for the options that list them)."""
    return await _rows(tx, account_id)


async def count(tx: Tx, account_id: uuid.UUID) -> int:
    found = await tx.session.scalar(
        select(func.count()).select_from(Passkey).where(Passkey.account_id == account_id)
    )
    return int(found or 0)


async def add(
    tx: Tx, account_id: uuid.UUID, new: NewPasskey, name: str, now: datetime
) -> PasskeyView:
    if await count(tx, account_id) >= MAX_PASSKEYS:
        raise Conflict(
            _("You have {count} passkeys, the most an account can have. Remove one first.",
              count=MAX_PASSKEYS)
        )  # fmt: skip
    taken = await tx.session.scalar(
        select(Passkey.id).where(Passkey.credential_id == new.credential_id)
    )
    if taken is not None:
        raise Conflict(_("This passkey is already registered. Use it to sign in."))
    passkey = Passkey(
        id=uuid.uuid4(),
        account_id=account_id,
        credential_id=new.credential_id,
        public_key=new.public_key,
        sign_count=new.sign_count,
        aaguid=new.aaguid,
        backup_eligible=new.backup_eligible,
        backed_up=new.backed_up,
        transports=new.transports,
        name=name,
        created_at=now,
    )
    tx.session.add(passkey)
    await tx.session.flush()
    return _view(passkey)


async def get(tx: Tx, account_id: uuid.UUID, passkey_id: str) -> PasskeyView:
    try:
        key = uuid.UUID(passkey_id)
    except ValueError:
        key = None
    passkey = await tx.session.get(Passkey, key) if key else None
    if passkey is None or passkey.account_id != account_id:
        raise NotFound(_("This is no longer part of the account's security info."))
    return _view(passkey)


async def remove(tx: Tx, account_id: uuid.UUID, passkey_id: uuid.UUID) -> None:
    await tx.session.execute(
        delete(Passkey).where(Passkey.id == passkey_id, Passkey.account_id == account_id)
    )


async def remove_added_since(tx: Tx, account_id: uuid.UUID, since: datetime) -> list[str]:
    """Remove the passkeys added at or after `since` (by whoever signed in then); their
    names."""
    rows = list(
        await tx.session.scalars(
            select(Passkey).where(Passkey.account_id == account_id, Passkey.created_at >= since)
        )
    )
    for passkey in rows:
        await tx.session.delete(passkey)
    await tx.session.flush()
    return [passkey.name for passkey in rows]

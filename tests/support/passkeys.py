"""A passkey authenticator in software, for the tests that drive the JSON API: it answers the
options a flow gives (`webauthn`) as a browser with a platform authenticator would —
`PublicKeyCredential.toJSON()` — with an EC P-256 key, attestation "none", and the flags a
synced passkey reports. Built from the WebAuthn spec's byte layouts, not from honnin's code."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


class SoftAuthenticator:
    def __init__(
        self,
        origin: str,
        *,
        user_verified: bool = True,
        counting: bool = False,
        aaguid: str = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd",  # iCloud Keychain's
    ) -> None:
        self.origin = origin
        self.user_verified = user_verified
        self.counting = counting  # a hardware key counts its uses; a synced passkey does not
        self.aaguid = bytes.fromhex(aaguid.replace("-", ""))
        self.credentials: list[Credential] = []

    def _flags(self, *extra: int) -> int:
        flags = UP | BE | BS | (UV if self.user_verified else 0)
        for bit in extra:
            flags |= bit
        return flags

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin}
        return json.dumps(data, separators=(",", ":")).encode()

    def create(self, options: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        """`navigator.credentials.create()`: a new resident credential."""
        rp_id = options["rp"]["id"]
        credential = Credential(
            os.urandom(16), ec.generate_private_key(ec.SECP256R1()), rp_id,
            unb64u(options["user"]["id"]),
        )  # fmt: skip
        self.credentials.append(credential)
        numbers = credential.key.public_key().public_numbers()
        cose = cbor2.dumps(
            {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
             -3: numbers.y.to_bytes(32, "big")}
        )  # fmt: skip
        attested = self.aaguid + len(credential.id).to_bytes(2, "big") + credential.id + cose
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags(AT)])
            + (0).to_bytes(4, "big")
            + attested
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": b64u(credential.id),
            "rawId": b64u(credential.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64u(client_data),
                "attestationObject": b64u(attestation),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        credential: Credential | None = None,
    ) -> dict[str, Any]:
        """`navigator.credentials.get()`: an assertion by one of its credentials (the one
        allowed, or the newest for the relying party)."""
        allowed = {unb64u(c["id"]) for c in options.get("allowCredentials") or []}
        if credential is None:
            usable = [
                c for c in self.credentials
                if c.rp_id == options["rpId"] and (not allowed or c.id in allowed)
            ]  # fmt: skip
            assert usable, "no credential of this authenticator is allowed"
            credential = usable[-1]
        if self.counting:
            credential.sign_count += 1
        auth_data = (
            hashlib.sha256(credential.rp_id.encode()).digest()
            + bytes([self._flags()])
            + credential.sign_count.to_bytes(4, "big")
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = credential.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64u(credential.id),
            "rawId": b64u(credential.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64u(client_data),
                "authenticatorData": b64u(auth_data),
                "signature": b64u(signature),
                "userHandle": b64u(credential.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

"""What a way to verify is: a code sent on one channel to one kind of security info.

The password is the other way in, checked by `honnin.accounts.passwords` in the sign-in
itself (its hashing runs before the flow's transaction); authenticator apps, passkeys and
recovery codes will be ways of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from honnin.destinations.kinds import Destinations, mask
from honnin.proofs.models import Proof


@dataclass(frozen=True)
class Option:
    """One way to verify with one piece of security info, as the person picks it."""

    id: str  # "<way>:<proof id>"
    way: str
    kind: str
    hint: str


def proof_id_of(option_id: str) -> str:
    """The proof an option's id names (`<way>:<proof id>`)."""
    return option_id.partition(":")[2]


@dataclass(frozen=True)
class CodeWay:
    """A code sent on `channel` to security info of `kind`; the person types it back.

    It is offered as a first step (sign in without a password) with a sign-in name of its kind
    that its channel can reach — judged from the name alone, never from whether an account
    has it — and as an option of "verify your identity" for each verified proof it reaches."""

    name: str
    kind: str
    channel: str
    first_step: bool = True

    def reaches(self, destinations: Destinations, kind: str, value: str) -> bool:
        return kind == self.kind and self.channel in destinations.reach(kind, value)

    def offered_for_name(self, destinations: Destinations, kind: str, name: str) -> bool:
        return self.first_step and self.reaches(destinations, kind, name)

    def options(self, destinations: Destinations, proofs: Iterable[Proof]) -> list[Option]:
        return [
            Option(f"{self.name}:{proof.id}", self.name, proof.kind, mask(proof.kind, proof.value))
            for proof in proofs
            if self.reaches(destinations, proof.kind, proof.value)
        ]

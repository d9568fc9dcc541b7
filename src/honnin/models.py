"""Every table, imported in one place so that the metadata (and Alembic) sees them all."""

from honnin.accounts.models import Account, SignInName
from honnin.clients.models import Client
from honnin.codes.models import Challenge, Code
from honnin.courier.models import Message, MessageEvent
from honnin.db import Base
from honnin.proofs.models import Proof

metadata = Base.metadata

__all__ = [
    "Account",
    "Challenge",
    "Client",
    "Code",
    "Message",
    "MessageEvent",
    "Proof",
    "SignInName",
    "metadata",
]

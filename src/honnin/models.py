"""Every table, imported in one place so that the metadata (and Alembic) sees them all."""

from honnin.accounts.models import Account, SignInName
from honnin.audit.models import AuditEvent
from honnin.authenticators.models import AuthenticatorApp, Passkey
from honnin.clients.models import Client
from honnin.codes.models import Challenge, Code
from honnin.courier.models import Message, MessageEvent
from honnin.db import Base
from honnin.flows.models import Flow
from honnin.jobs.models import Job
from honnin.limits.models import FailedAttempt
from honnin.oidc.models import (
    AuthorizationCode,
    AuthorizationRequest,
    Consent,
    Grant,
    OidcClient,
    PairwiseSubject,
    RefreshToken,
    SigningKey,
)
from honnin.proofs.models import Proof
from honnin.sessions.models import Session

metadata = Base.metadata

__all__ = [
    "Account",
    "AuditEvent",
    "AuthenticatorApp",
    "AuthorizationCode",
    "AuthorizationRequest",
    "Challenge",
    "Client",
    "Code",
    "Consent",
    "FailedAttempt",
    "Flow",
    "Grant",
    "Job",
    "Message",
    "MessageEvent",
    "OidcClient",
    "PairwiseSubject",
    "Passkey",
    "Proof",
    "RefreshToken",
    "Session",
    "SignInName",
    "SigningKey",
    "metadata",
]

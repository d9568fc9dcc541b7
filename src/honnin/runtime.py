"""Everything a serving process needs, built once from the settings.

The web pages, the JSON API and the courier all take their services from here, so each rule
has one implementation and one configuration.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from starlette.requests import HTTPConnection

from honnin.accounts import common as common_passwords
from honnin.accounts.breached import BreachedPasswords
from honnin.accounts.service import AccountService
from honnin.authenticators.passkeys import RelyingParty
from honnin.clients.service import ClientService
from honnin.clock import Clock, SystemClock
from honnin.codes import pumping
from honnin.codes.quotas import SendQuotas
from honnin.codes.service import CodePolicy, CodeService
from honnin.config import Settings
from honnin.courier.channels.base import Channel
from honnin.courier.composers import Composer, SmsComposer, VoiceComposer
from honnin.courier.dkim import DkimSigner
from honnin.courier.mail import EmailComposer
from honnin.courier.outbox import Outbox
from honnin.courier.providers import build_channels
from honnin.courier.render import Brand
from honnin.courier.reports import DeliveryReports
from honnin.courier.service import MessageService
from honnin.courier.worker import Courier, CourierConfig
from honnin.crypto import Keyring
from honnin.db import Database
from honnin.destinations.kinds import Destinations
from honnin.flows.recovery import AccountRecovery
from honnin.flows.reset import PasswordReset
from honnin.flows.service import FlowService
from honnin.flows.settings import SecuritySettings
from honnin.flows.signin import SignIn
from honnin.flows.signup import SignUp
from honnin.housekeeping import prune
from honnin.jobs.service import JobRunner, Jobs
from honnin.limits.failures import FailureLimits
from honnin.limits.service import Throttle
from honnin.notices.service import Notices
from honnin.oidc.client_keys import ClientKeys
from honnin.oidc.clients import OidcClients
from honnin.oidc.keys import SigningKeys
from honnin.oidc.provider import OidcProvider
from honnin.proofs.service import ProofService
from honnin.security.authenticators import AuthenticatorChanges
from honnin.security.closing import AccountClosing
from honnin.security.recovery import Recoveries
from honnin.security.service import SecurityChanges
from honnin.sessions.service import SessionService
from honnin.verifications.service import VerificationService

log = logging.getLogger("honnin")
HOUSEKEEPING_SECONDS = 600


def build_composers(settings: Settings) -> dict[str, Composer]:
    """One composer per channel."""
    signer = None
    if settings.dkim_domain and settings.dkim_selector and settings.dkim_key_file:
        signer = DkimSigner.from_file(
            settings.dkim_domain, settings.dkim_selector, settings.dkim_key_file
        )
    brand = Brand(settings.service_name, settings.web_host)
    return {
        "email": EmailComposer(brand, settings.mail_from, signer),
        "sms": SmsComposer(brand),
        "call": VoiceComposer(brand),
    }


class Runtime:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.keyring = Keyring(settings.resolve_secret(), settings.resolve_previous_secrets())
        self.db = Database(settings.effective_database_url)
        self.outbox = Outbox(self.keyring, self.clock)
        self.codes = CodeService(
            CodePolicy.from_settings(settings),
            self.keyring,
            self.clock,
            Throttle(settings),
            SendQuotas(
                settings.rate("destination_sends"),
                settings.rate("account_sends"),
                settings.rate("prefix_sends"),
                settings.rate("country_sends"),
            ),
            self.outbox,
        )
        self.destinations = Destinations.from_settings(settings)
        self.accounts = AccountService(
            self.db, self.clock, self.destinations, BreachedPasswords(settings.pwned_passwords_url)
        )
        self.clients = ClientService(self.db, self.clock)
        self.messages = MessageService(self.db)
        self.proofs = ProofService(
            self.db, self.clock, self.codes, self.accounts.hint, self.destinations
        )
        self.verifications = VerificationService(self.db, self.clock, self.codes, self.destinations)
        self.sessions = SessionService(
            self.db,
            self.clock,
            self.keyring,
            timedelta(seconds=settings.session_ttl_seconds),
            reauth_max_age=timedelta(seconds=settings.reauth_max_age_seconds),
        )
        self.flows = FlowService(
            self.db,
            self.clock,
            self.keyring,
            accounts=self.accounts,
            codes=self.codes,
            sessions=self.sessions,
            failures=FailureLimits(settings.rate("name_failures")),
            throttle=self.codes.throttle,
            ttl=timedelta(seconds=settings.flow_ttl_seconds),
            destinations=self.destinations,
            call_offer_after=timedelta(seconds=settings.call_offer_after_seconds),
            relying_party=RelyingParty.of(
                settings.base_url, settings.webauthn_origins, settings.service_name
            ),
        )
        self.jobs = Jobs(self.db, self.clock)
        self.notices = Notices(
            self.outbox, self.destinations, settings.service_name, settings.base_url
        )
        self.security = SecurityChanges(
            self.db,
            self.clock,
            self.keyring,
            accounts=self.accounts,
            jobs=self.jobs,
            notices=self.notices,
            destinations=self.destinations,
            sessions=self.sessions,
            removal_wait=timedelta(seconds=settings.removal_wait_seconds),
            passkeys_usable=self.flows.relying_party.available,
        )
        self.recoveries = Recoveries(
            self.security,
            wait=timedelta(seconds=settings.recovery_wait_seconds),
            remind_before=timedelta(seconds=settings.recovery_reminder_seconds),
        )
        self.closing = AccountClosing(
            self.security, wait=timedelta(seconds=settings.close_wait_seconds)
        )
        self.flows.register(SignIn(self.flows, self.security, self.closing))
        self.flows.register(SignUp(self.flows))
        self.authenticators = AuthenticatorChanges(self.security)
        self.flows.register(
            SecuritySettings(
                self.flows, self.security, self.closing, self.authenticators, settings.service_name
            )
        )
        self.flows.register(PasswordReset(self.flows, self.security, self.security, self.closing))
        self.flows.register(
            AccountRecovery(self.flows, self.security, self.recoveries, self.closing)
        )
        self.signing_keys = SigningKeys(
            self.db,
            self.clock,
            self.keyring,
            publish_ahead=timedelta(seconds=settings.oidc_key_publish_ahead_seconds),
            longest_token=timedelta(
                seconds=max(settings.oidc_id_token_seconds, settings.oidc_access_token_seconds)
            ),
        )
        self.oidc_clients = OidcClients(self.db, self.clock)
        self.oidc = OidcProvider(
            self.db,
            self.clock,
            issuer=settings.base_url,
            clients=self.oidc_clients,
            keys=self.signing_keys,
            accounts=self.accounts,
            id_token_seconds=settings.oidc_id_token_seconds,
            access_token_seconds=settings.oidc_access_token_seconds,
            refresh_token_seconds=settings.oidc_refresh_token_seconds,
            code_seconds=settings.oidc_code_seconds,
            request_seconds=settings.flow_ttl_seconds,
            client_keys=ClientKeys(self.clock),
        )
        self.job_runner: JobRunner | None = None
        self.reports = DeliveryReports(self.db, self.clock)
        self._channels: dict[str, list[Channel]] | None = None
        self.courier: Courier | None = None
        self._housekeeping: asyncio.Task[None] | None = None

    @property
    def channels(self) -> dict[str, list[Channel]]:
        """Each channel's providers, built at first use (a process that sends nothing and
        reads no delivery reports needs no relay configured)."""
        if self._channels is None:
            self._channels = build_channels(self.settings, self.keyring)
        return self._channels

    def make_courier(self) -> Courier:
        return Courier(
            self.db,
            self.clock,
            self.keyring,
            self.channels,
            build_composers(self.settings),
            CourierConfig.from_settings(self.settings),
        )

    def make_job_runner(self, actor: str) -> JobRunner:
        """The jobs run where the courier runs (`honnin serve`, `honnin courier`)."""
        return JobRunner(self.jobs, actor, self.settings.jobs_poll_seconds)

    async def start(self, *, courier: bool | None = None) -> None:
        """Start the in-process courier (unless disabled) and route the outbox to it; start
        the housekeeping."""
        if courier if courier is not None else self.settings.courier_enabled:
            self.courier = self.make_courier()
            await self.courier.start()
            self.outbox.courier = self.courier.local()
            self.job_runner = self.make_job_runner(self.courier.actor)
            self.job_runner.start()
        self._housekeeping = asyncio.create_task(self._keep_house(), name="housekeeping")
        # the common passwords' list, read now rather than in a sign-up (about 0.2 s)
        await asyncio.to_thread(common_passwords.size)

    async def _keep_house(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_SECONDS)
            try:
                await prune(self.db, self.clock, self.settings)
                await pumping.alert(
                    self.db,
                    self.clock.now(),
                    below=self.settings.pumping_alert_share,
                    min_codes=self.settings.pumping_alert_min_codes,
                )
            except Exception:
                log.exception("housekeeping failed; will try again")

    async def close(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            await asyncio.gather(self._housekeeping, return_exceptions=True)
            self._housekeeping = None
        self.outbox.courier = None
        if self.job_runner is not None:
            await self.job_runner.stop()
            self.job_runner = None
        if self.courier is not None:
            await self.courier.stop()
            self.courier = None
        await self.db.dispose()


def runtime_of(request: HTTPConnection) -> Runtime:
    """The runtime serving this request: the one way pages and API reach services and settings."""
    value: Runtime = request.app.state.runtime
    return value

"""Settings: every one an environment variable `HONNIN_<NAME>` and a key of an optional TOML file.

The TOML file is `HONNIN_CONFIG` if set, else `honnin.toml` in the working directory if present.
Environment variables win over the file. `dev = true` is the embedded default: SQLite in the
data folder, a generated secret kept there, and the built-in dev mailbox.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import phonenumbers
from limits import RateLimitItem, parse_many
from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from honnin.errors import ConfigurationError
from honnin.i18n import Locale, _
from honnin.private_files import private_dir

MIN_SECRET_LENGTH = 32


class SmtpTarget(BaseModel):
    """A parsed `smtp://[user:pass@]host:port` or `smtps://…` (implicit TLS) URL."""

    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            # never echo the URL: it may hold a password
            raise ValueError(
                "the SMTP URL must look like smtp://[user:pass@]host:port or smtps://…"
            )
        implicit_tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit_tls else 25),
            implicit_tls=implicit_tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def _config_file() -> Path | None:
    named = os.environ.get("HONNIN_CONFIG")
    if named:
        if not Path(named).is_file():
            raise ConfigurationError(
                _("HONNIN_CONFIG names {path}, which is not a readable file.", path=named)
            )
        return Path(named)
    local = Path("honnin.toml")
    return local if local.exists() else None


_ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


def _networks(value: str) -> list[str]:
    """`10.0.0.1, 10.1.0.0/16` → normalised networks; refused whole if one does not parse
    (uvicorn would silently treat it as a host name that never matches)."""
    networks = []
    for item in value.split(","):
        if not item.strip():
            continue
        try:
            networks.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError:
            raise ValueError(
                f"{item.strip()!r} is not an IP address or network: list the proxies' "
                "addresses, e.g. 10.0.0.5,192.168.0.0/24"
            ) from None
    return networks


def _codes(value: str) -> list[str]:
    """`JP, us` → `["JP", "US"]`: a comma-separated list of ISO 3166 codes."""
    return [item.strip().upper() for item in value.split(",") if item.strip()]


def _database_url(value: str) -> str:
    """Accept the URL forms people write (`postgresql://…`, `sqlite:///…`) with async drivers."""
    if not value:
        return value
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(
            "the database URL must look like postgresql://user@host/db or sqlite:///path/file.db"
        ) from None
    if url.drivername not in (*_ASYNC_DRIVERS.values(), *_ASYNC_DRIVERS):
        raise ValueError(f"database {url.drivername!r} is not supported: use PostgreSQL or SQLite")
    url = url.set(drivername=_ASYNC_DRIVERS.get(url.drivername, url.drivername))
    return url.render_as_string(hide_password=False)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HONNIN_", extra="forbid")

    dev: bool = Field(False, description="Embedded default: generated secret, dev mailbox.")
    data_dir: Path = Path("data")
    database_url: str = Field("", description="Defaults to a SQLite file in data_dir.")
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    secret_key_previous: SecretStr | None = Field(
        None, description="Earlier secrets, comma-separated: still accepted, never used to sign."
    )
    base_url: str = Field(
        "http://localhost:8000",
        description="Where the service is reached; its host is the passkeys' relying party "
        "(never an IP address).",
    )
    webauthn_origins: str = Field(
        "",
        description="Comma-separated origins besides HONNIN_BASE_URL's that may use passkeys "
        "(another web origin under the same host, android:apk-key-hash:…).",
    )
    service_name: str = "Honnin"
    default_locale: Locale = "en"
    max_body_bytes: int = Field(
        65_536, ge=1024, description="Larger request bodies get 413, before anything reads them."
    )

    mail_from: str = "Honnin account team <account-security-noreply@honnin.localhost>"
    smtp_url: str = Field("", description="Defaults to the dev mailbox in dev mode.")
    smtp_require_starttls: bool = False
    smtp_ca_file: Path | None = None
    # per step, as RFC 5321 §4.5.3.2 asks; a shorter wait for the reply to the final "." sends
    # a message a slow relay did take a second time
    smtp_connect_timeout_seconds: float = Field(300.0, gt=0)
    smtp_timeout_seconds: float = Field(300.0, gt=0)  # each command
    smtp_data_timeout_seconds: float = Field(180.0, gt=0)
    smtp_final_reply_timeout_seconds: float = Field(600.0, gt=0)
    smtp_connections: int = Field(16, ge=1, le=64)
    dkim_domain: str | None = None
    dkim_selector: str | None = None
    dkim_key_file: Path | None = None
    dev_mailbox_host: str = "127.0.0.1"
    dev_mailbox_port: int = 8025
    trusted_proxies: str | None = Field(
        None,
        description="Comma-separated IPs/CIDRs whose X-Forwarded-For is believed; unset: "
        "none, or loopback in dev mode.",
    )

    phone_default_region: str = Field(
        "JP", description="How a number typed without a country code is read (ISO 3166)."
    )
    phone_allowed_countries: str = Field(
        "",
        description="Comma-separated ISO 3166 codes of the countries numbers may be in; "
        "empty: all.",
    )

    sms_providers: str = Field(
        "", description="Comma-separated, in order: kannel+http://… or twilio+https://… URLs."
    )
    voice_providers: str = Field("", description="Comma-separated twilio+https://… URLs.")
    sms_sender_ids: str = Field(
        "", description="The sender of texts per country: JP=+815012345678,US=+15551234567."
    )
    call_offer_after_seconds: int = Field(
        60, ge=0, le=3600, description="Offer a call when a text is not delivered by then."
    )

    code_length: int = Field(6, ge=6, le=8)
    code_ttl_seconds: int = Field(600, ge=60, le=86_400)
    code_max_attempts: int = Field(5, ge=1, le=20)
    resend_cooldown_seconds: int = Field(30, ge=0, le=3600)
    limit_destination_sends: str = "5/hour,10/day"
    limit_account_sends: str = "10/hour,20/day"
    limit_client_sends: str = "1000/hour,20000/day"
    limit_ip_sends: str = "20/hour,50/day"
    limit_client_checks: str = "10000/hour"
    limit_ip_checks: str = "100/hour"
    limit_ip_meters: str = "120/minute,2000/hour"
    limit_ip_oidc_pages: str = "300/minute,5000/hour"
    limit_ip_oidc_calls: str = "3000/minute"
    limit_name_failures: str = "10/15minutes,100/day"
    limit_prefix_sends: str = "20/hour,100/day"
    limit_country_sends: str = "500/hour,5000/day"
    pumping_alert_share: float = Field(
        0.2, ge=0, le=1, description="Alert when fewer of a prefix's codes are entered than this."
    )
    pumping_alert_min_codes: int = Field(
        20, ge=1, description="…among at least this many codes in the last hour."
    )
    pwned_passwords_url: str = Field(
        "",
        description="A Pwned-Passwords-compatible range API, e.g. "
        "https://api.pwnedpasswords.com/range/ (empty: the bundled list alone).",
    )
    flow_ttl_seconds: int = Field(1800, ge=60, le=86_400)
    session_ttl_seconds: int = Field(14 * 86_400, ge=300)
    reauth_max_age_seconds: int = Field(
        600, ge=0, le=86_400, description="How long after a verification a session is fresh."
    )
    oidc_key_publish_ahead_seconds: int = Field(
        2 * 86_400,
        ge=300,  # the JWKS's cache lifetime (api/oidc.py): known before it signs
        le=30 * 86_400,
        description="How long a new signing key is published in the JWKS before it signs.",
    )
    oidc_id_token_seconds: int = Field(3600, ge=60, le=86_400, description="ID tokens' life.")
    oidc_code_seconds: int = Field(
        60, ge=10, le=600, description="How long an authorization code can be exchanged."
    )
    oidc_refresh_token_seconds: int = Field(
        30 * 86_400,
        ge=3600,
        le=365 * 86_400,
        description="How long a refresh token can be used (each use gives a new one).",
    )
    oidc_access_token_seconds: int = Field(
        300, ge=30, le=3600, description="Access tokens' life (short: they can't be revoked)."
    )
    removal_wait_seconds: int = Field(
        30 * 86_400,
        ge=60,
        description="How long the removal of an account's last way to verify waits.",
    )
    recovery_wait_seconds: int = Field(
        30 * 86_400,
        ge=60,
        description="How long a recovery (every way in lost) waits before its new way counts.",
    )
    recovery_reminder_seconds: int = Field(
        7 * 86_400,
        ge=0,
        description="How long before a recovery's end every way is reminded of it (half the "
        "wait, when this is not shorter than the wait).",
    )
    close_wait_seconds: int = Field(
        30 * 86_400,
        ge=60,
        description="How long a closed account waits before it is deleted (signing in "
        "meanwhile reopens it).",
    )
    jobs_poll_seconds: float = Field(
        30.0, gt=0, description="How often a courier's process looks for due jobs."
    )

    courier_enabled: bool = Field(True, description="Run a courier inside each app process.")
    courier_concurrency: int = Field(32, ge=1, le=256)
    courier_poll_seconds: float = Field(2.0, gt=0)
    # renewed every third of it while a message is being sent, so it need not outlast a send
    courier_claim_seconds: float = Field(120.0, ge=1)
    courier_retry_base_seconds: float = Field(5.0, gt=0)
    courier_retry_max_seconds: float = Field(900.0, gt=0)
    courier_max_attempts: int = Field(10, ge=1)
    courier_provider_attempts: int = Field(
        3, ge=1, description="Attempts at one provider before the next of its channel takes over."
    )
    # support reads recent delivery timelines; finished ones older than this are pruned
    message_history_seconds: int = Field(90 * 86_400, ge=86_400)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @field_validator("mail_from")
    @classmethod
    def _mail_from_has_name_and_address(cls, value: str) -> str:
        name, address = parseaddr(value)
        if not name or "@" not in address:
            raise ValueError(
                "mail_from must be 'Display Name <address@domain>', e.g. "
                "'Example account team <account-security-noreply@accountprotection.example.com>'"
            )
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_parses(cls, value: str) -> str:
        if value:
            SmtpTarget.parse(value)
        return value

    @field_validator(
        "limit_destination_sends",
        "limit_account_sends",
        "limit_client_sends",
        "limit_ip_sends",
        "limit_client_checks",
        "limit_ip_checks",
        "limit_name_failures",
        "limit_prefix_sends",
        "limit_country_sends",
        "limit_ip_meters",
        "limit_ip_oidc_pages",
        "limit_ip_oidc_calls",
    )
    @classmethod
    def _limits_parse(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as error:
            raise ValueError(
                f"{value!r} is not a list of rates like '5/hour,10/day': {error}"
            ) from None
        return value

    @field_validator("webauthn_origins")
    @classmethod
    def _origins_parse(cls, value: str) -> str:
        for origin in (item.strip() for item in value.split(",") if item.strip()):
            parsed = urlsplit(origin)
            web = parsed.scheme in ("https", "http") and parsed.netloc and not parsed.path
            if not (web or origin.startswith("android:apk-key-hash:")):
                raise ValueError(
                    f"{origin!r} is not an origin: write scheme://host[:port] (no path), e.g. "
                    "https://app.example.com, or android:apk-key-hash:…"
                )
        return value

    @field_validator("phone_default_region")
    @classmethod
    def _region_known(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a country code libphonenumber knows, e.g. JP, US")
        return value

    @field_validator("phone_allowed_countries")
    @classmethod
    def _countries_known(cls, value: str) -> str:
        unknown = [code for code in _codes(value) if code not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)}: not country codes libphonenumber knows; list ISO 3166 "
                "codes separated by commas, e.g. JP,US"
            )
        return value

    @field_validator("sms_providers", "voice_providers")
    @classmethod
    def _providers_parse(cls, value: str, info: ValidationInfo) -> str:
        from honnin.courier.providers import provider_urls  # the courier builds on the settings

        provider_urls(value, "call" if info.field_name == "voice_providers" else "sms")
        return value

    @field_validator("sms_sender_ids")
    @classmethod
    def _senders_parse(cls, value: str) -> str:
        from honnin.courier.providers import sender_ids

        sender_ids(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies_parse(cls, value: str | None) -> str | None:
        if value is not None:
            _networks(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_parses(cls, value: str) -> str:
        return _database_url(value)

    @model_validator(mode="after")
    def _dkim_all_or_nothing(self) -> Settings:
        dkim = (self.dkim_domain, self.dkim_selector, self.dkim_key_file)
        if any(dkim) and not all(dkim):
            raise ValueError(
                "DKIM needs all of HONNIN_DKIM_DOMAIN, HONNIN_DKIM_SELECTOR and "
                "HONNIN_DKIM_KEY_FILE (or none of them)"
            )
        return self

    # --- derived values -------------------------------------------------------------

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'honnin.db').resolve()}"

    @property
    def smtp(self) -> SmtpTarget:
        if self.smtp_url:
            return SmtpTarget.parse(self.smtp_url)
        if self.dev:
            return SmtpTarget(
                host=self.dev_mailbox_host, port=self.dev_mailbox_port, implicit_tls=False
            )
        raise ConfigurationError(
            _(
                "HONNIN_SMTP_URL is not set. Set it to your mail relay, e.g. smtp://user:pass@relay:587."
            )
        )

    @property
    def proxies(self) -> list[str]:
        """The networks whose X-Forwarded-For names the client (what the limits count)."""
        if self.trusted_proxies is None:
            return ["127.0.0.1/32", "::1/128"] if self.dev else []
        return _networks(self.trusted_proxies)

    @property
    def cookie_secure(self) -> bool:
        """Secure (and `__Host-`) cookies, except in dev mode on plain HTTP."""
        return not (self.dev and self.base_url.startswith("http://"))

    @property
    def web_host(self) -> str:
        """The host name of `base_url` (what a text's WebOTP line binds a code to)."""
        return urlsplit(self.base_url).hostname or "localhost"

    @property
    def mail_from_address(self) -> str:
        return parseaddr(self.mail_from)[1]

    @property
    def phone_allowed(self) -> frozenset[str]:
        """`HONNIN_PHONE_ALLOWED_COUNTRIES` as a set of ISO 3166 codes (empty: every country)."""
        return frozenset(_codes(self.phone_allowed_countries))

    def rate(self, name: str) -> list[RateLimitItem]:
        """The parsed rate limits of a `limit_*` setting."""
        return list(parse_many(getattr(self, f"limit_{name}")))

    def resolve_secret(self) -> bytes:
        """The server secret: explicit, or in dev mode generated once and kept in data_dir."""
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            if len(value) < MIN_SECRET_LENGTH:
                raise ConfigurationError(
                    _(
                        "HONNIN_SECRET_KEY is too short: use at least {length} random characters.",
                        length=MIN_SECRET_LENGTH,
                    )
                )
            return value.encode()
        if not self.dev:
            raise ConfigurationError(
                _(
                    "HONNIN_SECRET_KEY is not set. Outside dev mode the service needs an explicit "
                    "secret: set HONNIN_SECRET_KEY to at least {length} random characters "
                    "(e.g. the output of: python3 -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))'), or run with --dev.",
                    length=MIN_SECRET_LENGTH,
                )
            )
        return _dev_secret(self.data_dir / "secret_key")

    def resolve_previous_secrets(self) -> list[bytes]:
        """The secrets a rotation replaced: what was made under them is still accepted."""
        if self.secret_key_previous is None:
            return []
        values = [v.strip() for v in self.secret_key_previous.get_secret_value().split(",")]
        if any(0 < len(value) < MIN_SECRET_LENGTH for value in values):
            raise ConfigurationError(
                _(
                    "A key in HONNIN_SECRET_KEY_PREVIOUS is too short: each comma-separated key "
                    "must be at least {length} characters, as HONNIN_SECRET_KEY was.",
                    length=MIN_SECRET_LENGTH,
                )
            )
        return [value.encode() for value in values if value]


def _dev_secret(path: Path) -> bytes:
    """Create the dev secret once; `os.link` makes concurrent first starts agree on one value."""
    private_dir(path.parent)
    if not path.exists():
        scratch = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_urlsafe(48).encode())
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass
        finally:
            scratch.unlink()
    return path.read_bytes().strip()


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)

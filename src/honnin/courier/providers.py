"""Each channel's ordered providers, built from the settings.

`email`: the SMTP relay (`HONNIN_SMTP_URL`, or the dev mailbox). `sms` and `call`: the
providers of `HONNIN_SMS_PROVIDERS` and `HONNIN_VOICE_PROVIDERS`, in order — the next takes a
message over when one refuses it for good or gives up on it (`honnin.courier.worker`); in dev
mode without any, the dev mailbox. Decoys of each channel go to its void.

Delivery reports come back to `{HONNIN_BASE_URL}/api/hooks/{channel}/{key}/{message id}`: the
channel and the provider's key (a digest of its URL without the password: the same when the
list is reordered or a password rotated) name the provider that sent it, which checks the
report's proof.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Callable

from honnin.config import Settings
from honnin.courier.channels.base import Channel
from honnin.courier.channels.devphone import DevPhoneChannel
from honnin.courier.channels.kannel import KannelChannel, KannelTarget
from honnin.courier.channels.smtp import SmtpChannel, SmtpTimeouts
from honnin.courier.channels.twilio import TwilioChannel, TwilioTarget
from honnin.courier.channels.void import VOID, VoidChannel, decoy_of
from honnin.crypto import Keyring
from honnin.destinations.phones import CALL, SMS, region_of, unknown_regions


def provider_urls(value: str, channel: str = SMS) -> list[str]:
    """A comma-separated list of `channel`'s provider URLs, each checked (`ValueError` says
    how to write it)."""
    urls = [item.strip() for item in value.split(",") if item.strip()]
    for url in urls:
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme.startswith("kannel+"):
            if channel != SMS:
                raise ValueError("Kannel sends texts only: a voice provider is twilio+https://…")
            KannelTarget.parse(url)
        elif scheme.startswith("twilio+"):
            TwilioTarget.parse(url)
        else:
            raise ValueError(
                f"{scheme or url[:20]!r}: a provider URL starts with kannel+http(s):// or "
                "twilio+https://"
            )
    return urls


def provider_key(url: str) -> str:
    """A provider's stable name in its reports' URL: its URL without the password, digested."""
    parts = urllib.parse.urlsplit(url)
    public = f"{parts.scheme}://{parts.username}@{parts.hostname}:{parts.port}{parts.path}"
    return hashlib.sha256(public.encode()).hexdigest()[:12]


def sender_ids(value: str) -> dict[str, str]:
    """`JP=+815012345678,US=+15551234567` → {"JP": "+815012345678", "US": "+15551234567"}."""
    senders: dict[str, str] = {}
    for item in value.split(","):
        if not item.strip():
            continue
        country, sep, sender = item.partition("=")
        if not sep or not country.strip() or not sender.strip():
            raise ValueError(
                f"{item.strip()!r}: list senders per country as JP=+815012345678,US=+15551234567"
            )
        if unknown_regions([country.strip().upper()]):
            raise ValueError(f"{country.strip()!r} is not an ISO 3166 country code (e.g. JP, GB)")
        senders[country.strip().upper()] = sender.strip()
    return senders


def _smtp(settings: Settings) -> SmtpChannel:
    return SmtpChannel(
        settings.smtp,
        require_starttls=settings.smtp_require_starttls,
        ca_file=settings.smtp_ca_file,
        timeouts=SmtpTimeouts.from_settings(settings),
        connections=settings.smtp_connections,
    )


def build_channels(settings: Settings, keyring: Keyring) -> dict[str, list[Channel]]:
    senders = sender_ids(settings.sms_sender_ids)

    def sender_for(recipient: str) -> str | None:
        return senders.get(region_of(recipient))

    def report_url(channel: str, key: str) -> Callable[[str], str]:
        base = settings.base_url.rstrip("/")
        return lambda message_id: f"{base}/api/hooks/{channel}/{key}/{message_id}"

    def providers(channel: str, value: str) -> list[Channel]:
        built: list[Channel] = []
        for url in provider_urls(value, channel):
            key = provider_key(url)
            if url.startswith("kannel+"):
                built.append(
                    KannelChannel(
                        KannelTarget.parse(url),
                        report_url=report_url(channel, key),
                        key=key,
                        keyring=keyring,
                        sender_for=sender_for,
                    )
                )
            else:
                built.append(
                    TwilioChannel(
                        TwilioTarget.parse(url),
                        voice=channel == CALL,
                        report_url=report_url(channel, key),
                        key=key,
                        sender_for=sender_for,
                    )
                )
        if not built and settings.dev:
            built.append(DevPhoneChannel(channel, _smtp(settings)))
        return built

    channels: dict[str, list[Channel]] = {
        "email": [_smtp(settings)],
        VOID: [VoidChannel()],  # decoys of mail
        SMS: providers(SMS, settings.sms_providers),
        CALL: providers(CALL, settings.voice_providers),
    }
    for channel in (SMS, CALL):
        channels[decoy_of(channel)] = [VoidChannel()]
    return {name: providers for name, providers in channels.items() if providers}

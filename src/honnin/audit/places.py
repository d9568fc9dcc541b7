"""Where an IP address is, approximately: its country, as the Regional Internet Registries
assigned its block (`iptocc`: their data, in the package, no network), named in the reader's
language. It is where the block is registered, not where the person sits (right for about 95%
of addresses); private, loopback and documentation addresses have no place.
"""

from __future__ import annotations

import ipaddress

from babel import Locale
from iptocc import country_code

from honnin.i18n import _


def country_of(ip: str | None) -> str | None:
    """The ISO 3166 code of the country an address is registered in, if it has one."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if not address.is_global:
        return None
    code = country_code(str(address))
    return code if isinstance(code, str) and code else None


def country_name(code: str, locale: str) -> str:
    """A country's name in `locale` ("Japan", "日本")."""
    return str(Locale.parse(locale).territories.get(code) or code)


def place_of(ip: str | None, locale: str) -> str | None:
    """The name of the country an address is in, in `locale`, if it has one."""
    code = country_of(ip)
    return country_name(code, locale) if code else None


def ip_and_place(ip: str | None, locale: str) -> str:
    """An address with its country, as a notice gives it: "1.0.16.1 (Japan)"."""
    place = place_of(ip, locale)
    if not ip or place is None:
        return ip or "?"
    return _("{ip} ({place})", ip=ip, place=place).render(locale)

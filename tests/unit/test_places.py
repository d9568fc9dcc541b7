"""Where an IP address is, approximately: the country its block is registered in (RIR data),
named in the reader's language; no place for private, loopback or documentation addresses."""

from __future__ import annotations

import pytest

from honnin.audit.places import country_of, ip_and_place, place_of


def test_a_public_address_has_its_registrys_country() -> None:
    assert country_of("1.0.16.1") == "JP"  # APNIC's block for Japan
    assert country_of("8.8.8.8") == "US"
    assert place_of("1.0.16.1", "en") == "Japan"
    assert place_of("1.0.16.1", "ja") == "日本"


@pytest.mark.parametrize(
    "ip", ["127.0.0.1", "10.1.2.3", "192.168.0.9", "192.0.2.10", "::1", "fe80::1", "", None, "x"]
)
def test_private_loopback_documentation_and_nonsense_have_no_place(ip: str | None) -> None:
    assert country_of(ip) is None
    assert place_of(ip, "en") is None


def test_a_notice_gives_the_address_with_its_place() -> None:
    assert ip_and_place("1.0.16.1", "en") == "1.0.16.1 (Japan)"
    assert ip_and_place("1.0.16.1", "ja") == "1.0.16.1（日本）"
    assert ip_and_place("192.0.2.10", "en") == "192.0.2.10"
    assert ip_and_place(None, "en") == "?"

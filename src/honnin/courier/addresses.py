"""Email addresses on the wire: what the SMTP envelope and headers need."""

from __future__ import annotations

import idna


def ascii_address(address: str) -> str:
    """The address with its domain in IDNA 2008 form (`straße.de` → `xn--strae-oqa.de`).

    IDNA 2008, as email-validator uses: Python's built-in `idna` codec is IDNA 2003, which maps
    `ß` to `ss` and would send the mail to a different domain.
    """
    local, _sep, domain = address.rpartition("@")
    if domain.isascii():
        return address
    return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"


def needs_smtputf8(address: str) -> bool:
    """A non-ASCII local part can only travel with the SMTPUTF8 extension (RFC 6531)."""
    return not address.rpartition("@")[0].isascii()

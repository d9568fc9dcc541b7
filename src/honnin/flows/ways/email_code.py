"""A code by email: to an address that is the sign-in name, or a verified address."""

from __future__ import annotations

from honnin.flows.ways.base import CodeWay

WAY = CodeWay(name="email_code", kind="email", channel="email")

"""A code read out by an automated call: to any number that is the sign-in name or verified
(mobile or landline); also what a text that did not arrive can turn into ("call me instead")."""

from __future__ import annotations

from honnin.flows.ways.base import CodeWay

WAY = CodeWay(name="call_code", kind="phone", channel="call")

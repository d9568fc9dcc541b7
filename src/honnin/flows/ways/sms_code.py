"""A code by text message: to a mobile number that is the sign-in name, or a verified one.
A text that is not reported delivered in time (or failed) offers a call instead."""

from __future__ import annotations

from honnin.flows.ways.base import CodeWay

WAY = CodeWay(name="sms_code", kind="phone", channel="sms")

"""Ways to sign in and verify, one module each (`password`; a code by email, by text, by a call);
the flows, the pages and the JSON API list and run the ways that send a code through
`CODE_WAYS`.

A way says what it needs from the person, how it is offered (as a first step with a sign-in
name of its kind; as an option of "verify your identity" for each piece of security info it
can reach) and how its answer is checked. Adding one is its module, its templates
(`web/templates/flows/ways/<name>.html`: how it is offered) and its tests, and one line here.
"""

from __future__ import annotations

from typing import Any

from honnin.flows.ways import call_code, email_code, sms_code
from honnin.flows.ways.base import CodeWay, Option, proof_id_of

CODE_WAYS: tuple[CodeWay, ...] = (email_code.WAY, sms_code.WAY, call_code.WAY)
"""The ways that send a code, in the order they are offered."""

BY_NAME: dict[str, CodeWay] = {way.name: way for way in CODE_WAYS}
BY_CHANNEL: dict[str, CodeWay] = {way.channel: way for way in CODE_WAYS}


def first_ways(data: dict[str, Any]) -> list[str]:
    """The ways of sending a code a sign-in's name offers, from its flow's data (a flow that
    stored none predates them: by email, the only way there was)."""
    return list(data.get("ways", ["email_code"]))


__all__ = ["BY_CHANNEL", "BY_NAME", "CODE_WAYS", "CodeWay", "Option", "first_ways", "proof_id_of"]

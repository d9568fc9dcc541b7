"""An authenticator app, as a person's phone would run it: the secret from the setup, and the
code it shows at the test's clock (computed by `pyotp`, not by our code)."""

from __future__ import annotations

from typing import Any

import pyotp

from tests.support.clock import ShiftableClock
from tests.support.settings import SettingsFlow


class PhoneApp:
    def __init__(self, secret: str, clock: ShiftableClock) -> None:
        self.totp = pyotp.TOTP(secret.replace(" ", ""))
        self.clock = clock

    def code(self, steps: int = 0) -> str:
        """The code shown now (`steps` 30-second steps later or earlier)."""
        return self.totp.at(self.clock.now().timestamp() + 30 * steps)


async def add_app(flow: SettingsFlow, clock: ShiftableClock, name: str = "phone") -> PhoneApp:
    """Add an app from the security info (the session verified just now), and enter its
    first code."""
    state = await flow.act("add_app", name=name)
    assert state["state"] == "add_app", state
    app = PhoneApp(state["app_setup"]["secret"], clock)
    done: dict[str, Any] = await flow.act("submit_code", code=app.code())
    assert done["notice"] == "app_added", done
    clock.advance(seconds=30)  # its next code is a new one
    return app

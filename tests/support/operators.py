"""The operators' commands (`honnin …`) against a test's database, with its secret and service
name: the commands that act as the service does (they send notices, seal links)."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from honnin.cli.main import app


class Operator:
    def __init__(self, runner: CliRunner) -> None:
        self.runner = runner

    def run_now(self, *args: str) -> tuple[int, str]:
        result = self.runner.invoke(app, list(args))
        # an exception that escaped (a traceback for the operator) fails the test
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return result.exit_code, result.output

    async def run(self, *args: str) -> tuple[int, str]:
        """From an async test: the command runs its own event loop, the app's keeps going."""
        return await asyncio.to_thread(self.run_now, *args)

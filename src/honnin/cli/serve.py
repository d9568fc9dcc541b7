"""`honnin serve` and `honnin courier`: the long-running processes."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import signal

import typer
import uvicorn

from honnin.cli.common import console, fail, load_settings, one_line_errors, run
from honnin.config import Settings
from honnin.courier.devmailbox import start_dev_smtp
from honnin.db.migrate import upgrade
from honnin.runtime import Runtime


def _banner(settings: Settings, host: str, port: int, dev_smtp: bool) -> None:
    url = f"http://{host}:{port}"
    console.print(f"[bold green]honnin is running[/] at {url}  (API docs: {url}/api/docs)")
    if dev_smtp:
        console.print(
            f"dev mailbox: {url}/dev/mailbox  (SMTP on "
            f"{settings.dev_mailbox_host}:{settings.dev_mailbox_port}; nothing leaves this machine)"
        )
    console.print("a first account:  .venv/bin/honnin accounts create you@example.com")
    console.print("an API key:       .venv/bin/honnin clients create my-app")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    dev: bool = typer.Option(
        False, "--dev", help="Embedded default: SQLite in ./data, a generated secret, dev mailbox."
    ),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes (each runs a courier)."),
) -> None:
    """Run the web pages, the API and the courier."""
    if dev and not _is_loopback(host):
        fail(
            f"--dev serves the dev mailbox, which shows every code sent; it listens only on "
            f"loopback (127.0.0.1 or ::1), not on {host}"
        )
    if dev:
        os.environ["HONNIN_DEV"] = "true"
        os.environ.setdefault("HONNIN_BASE_URL", f"http://{host}:{port}")
    settings = load_settings()
    with one_line_errors():
        settings.resolve_secret()  # refuse to start without one, before forking workers
        settings.smtp  # noqa: B018 - refuse to start without a mail relay
        if settings.dev:
            upgrade(settings.effective_database_url)
    dev_smtp = None
    if settings.dev and not settings.smtp_url:
        try:
            dev_smtp = start_dev_smtp(
                settings.data_dir / "mailbox", settings.dev_mailbox_host, settings.dev_mailbox_port
            )
        except (OSError, RuntimeError) as error:
            fail(
                f"cannot start the dev mailbox on port {settings.dev_mailbox_port} ({error}); "
                "set HONNIN_DEV_MAILBOX_PORT to a free port"
            )
    _banner(settings, host, port, dev_smtp is not None)
    try:
        uvicorn.run(
            "honnin.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop="uvloop",
            http="httptools",
            access_log=False,
            log_level="info",
            server_header=False,
        )
    finally:
        if dev_smtp is not None:
            dev_smtp.stop()


def courier() -> None:
    """Run a courier on its own (besides or instead of the ones inside `serve`)."""
    settings = load_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    async def go() -> None:
        runtime = Runtime(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        worker = runtime.make_courier()
        console.print(f"courier {worker.actor} is running; Ctrl-C to stop")
        try:
            await worker.run_until_stopped(stop)
        finally:
            await runtime.db.dispose()

    with contextlib.suppress(KeyboardInterrupt):
        run(go())

"""`honnin serve` and `honnin courier`: the long-running processes."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import os
import signal
import socket
from collections.abc import Callable

import typer
import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from honnin.authenticators.passkeys import RelyingParty
from honnin.cli.common import console, fail, load_settings, one_line_errors, run
from honnin.config import Settings
from honnin.courier.devmailbox import start_dev_smtp
from honnin.migrations import upgrade
from honnin.runtime import Runtime


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _banner(settings: Settings, host: str, port: int, dev_smtp: bool) -> None:
    # the embedded default: where its pages are (localhost: passkeys need a host name)
    url = settings.base_url.rstrip("/") if settings.dev else _url(host, port)
    console.print(f"[bold green]honnin is running[/] at {url}  (API docs: {url}/api/docs)")
    if not RelyingParty.of(settings.base_url, "", "").available:
        console.print(
            f"[yellow]passkeys are off[/]: HONNIN_BASE_URL ({settings.base_url}) names an IP "
            "address, which can never be a passkey's relying party; use a host name, e.g. "
            f"http://localhost:{port}"
        )
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


def _bind(host: str, port: int, *, what: str, how_to_change: str) -> socket.socket:
    """Take the port now, as uvicorn would (SO_REUSEADDR), so that a busy one is said before
    anything starts, and nothing can take it between this check and the server's start."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # listening makes it ours alone (SO_REUSEADDR lets a second bind in)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            fail(f"{what} {port} on {host} is already in use: {how_to_change}")
        fail(f"cannot listen on {host}:{port} for {what} ({error.strerror}): {how_to_change}")
    sock.set_inheritable(True)
    return sock


def uvicorn_config(settings: Settings, host: str, port: int, workers: int) -> uvicorn.Config:
    """How `honnin serve` runs uvicorn; X-Forwarded-For is believed only from the trusted
    proxies (uvicorn's own default trusts 127.0.0.1: anything on the host could pick its IP)."""
    proxies = settings.proxies
    return uvicorn.Config(
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
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies,
    )


class _Server(uvicorn.Server):
    """One process: says it runs once it does (its lifespan started, the socket served)."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.on_started()


class _Workers(Multiprocess):
    """Several processes: says it runs once every worker serves."""

    def __init__(
        self, config: uvicorn.Config, sockets: list[socket.socket], on_started: Callable[[], None]
    ) -> None:
        super().__init__(config, sockets)
        self.on_started = on_started

    def init_processes(self) -> None:
        super().init_processes()
        if all(p.wait_until_ready(_WORKER_START_SECONDS, self.should_exit) for p in self.processes):
            self.on_started()


_WORKER_START_SECONDS = 120.0


def serve(
    dev: bool = typer.Option(
        False, "--dev", help="Embedded default: SQLite in ./data, a generated secret, dev mailbox."
    ),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
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
        # localhost, not the address: a secure context over plain http, and a host name
        # passkeys can belong to (an IP address never can)
        os.environ.setdefault("HONNIN_BASE_URL", f"http://localhost:{port}")
    settings = load_settings()
    if settings.dev and not _is_loopback(settings.dev_mailbox_host):
        fail(
            "the dev mailbox listens only on loopback (127.0.0.1 or ::1), not on "
            f"{settings.dev_mailbox_host}: change HONNIN_DEV_MAILBOX_HOST"
        )
    with one_line_errors():
        settings.resolve_secret()  # refuse to start without one, before forking workers
        settings.smtp  # noqa: B018 - refuse to start without a mail relay
    listener = _bind(host, port, what="port", how_to_change="pick another with --port PORT")
    dev_smtp = None
    try:
        if settings.dev and not settings.smtp_url:
            mailbox = (settings.dev_mailbox_host, settings.dev_mailbox_port)
            how = "pick another with HONNIN_DEV_MAILBOX_PORT=PORT"
            _bind(*mailbox, what="the dev mailbox's SMTP port", how_to_change=how).close()
            try:
                dev_smtp = start_dev_smtp(settings.data_dir / "mailbox", *mailbox)
            except (OSError, RuntimeError) as error:
                fail(f"cannot start the dev mailbox on {mailbox[0]}:{mailbox[1]} ({error}); {how}")
        if settings.dev:
            with one_line_errors():
                upgrade(settings.effective_database_url)
        _run(settings, host, port, workers, listener, dev_smtp is not None)
    finally:
        listener.close()
        if dev_smtp is not None:
            dev_smtp.stop()


def _run(
    settings: Settings, host: str, port: int, workers: int, listener: socket.socket, dev: bool
) -> None:
    config = uvicorn_config(settings, host, port, workers)
    started = False

    def on_started() -> None:
        nonlocal started
        started = True
        _banner(settings, host, port, dev)

    with contextlib.suppress(KeyboardInterrupt):
        if workers > 1:
            _Workers(config, [listener], on_started).run()
        else:
            _Server(config, on_started).run([listener])
    if not started:
        fail("the service did not start (the reason is in the log above)")


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
        jobs = runtime.make_job_runner(worker.actor)  # scheduled changes run here too
        console.print(f"courier {worker.actor} is running; Ctrl-C to stop")
        jobs.start()
        try:
            await worker.run_until_stopped(stop)
        finally:
            await jobs.stop()
            await runtime.db.dispose()

    with contextlib.suppress(KeyboardInterrupt):
        run(go())

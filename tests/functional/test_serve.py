"""`honnin serve` as an operator runs it: a real process, real ports, real uvicorn."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from honnin.cli.serve import uvicorn_config
from honnin.config import Settings
from tests.support.pages import PageClient
from tests.support.smtp import free_port

pytestmark = pytest.mark.slow

BANNER = "honnin is running"


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HONNIN_")}
    return {**env, "COLUMNS": "200", **{f"HONNIN_{k.upper()}": v for k, v in settings.items()}}


def _serve_once(
    folder: Path, port: str, *args: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`honnin serve --dev --port PORT ARGS…` in `folder`, run until it exits (start-up errors)."""
    return subprocess.run(
        [sys.executable, "-m", "honnin", "serve", "--dev", "--port", port, *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _serve(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "honnin", "serve", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until_up(process: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    out, err = process.communicate()
    pytest.fail(f"the server did not start:\n{out}\n{err}")


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    return out, err


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# --- ports taken ------------------------------------------------------------------------------


def test_a_busy_port_is_named_with_the_option_to_change_it(tmp_path: Path, busy_port: int) -> None:
    mail_port = free_port()
    result = _serve_once(tmp_path, str(busy_port), env=_env(dev_mailbox_port=str(mail_port)))
    assert result.returncode == 1
    assert result.stderr == (
        f"error: port {busy_port} on 127.0.0.1 is already in use: pick another with --port PORT\n"
    )
    assert BANNER not in result.stdout
    assert _port_is_free(mail_port)  # the dev mailbox was not left behind, nor started


def test_a_busy_dev_mailbox_port_is_named_with_the_setting_to_change_it(
    tmp_path: Path, busy_port: int
) -> None:
    port = free_port()
    result = _serve_once(tmp_path, str(port), env=_env(dev_mailbox_port=str(busy_port)))
    assert result.returncode == 1
    assert result.stderr == (
        f"error: the dev mailbox's SMTP port {busy_port} on 127.0.0.1 is already in use: "
        "pick another with HONNIN_DEV_MAILBOX_PORT=PORT\n"
    )
    assert BANNER not in result.stdout
    assert _port_is_free(port)


def test_the_dev_mailbox_cannot_share_the_http_port(tmp_path: Path) -> None:
    port = free_port()
    result = _serve_once(tmp_path, str(port), env=_env(dev_mailbox_port=str(port)))
    assert result.returncode == 1
    assert f"the dev mailbox's SMTP port {port} on 127.0.0.1 is already in use" in result.stderr
    assert BANNER not in result.stdout


@pytest.mark.parametrize(
    ("args", "settings", "message"),
    [
        (
            ["--host", "0.0.0.0"],  # noqa: S104
            {},
            "error: --dev serves the dev mailbox, which shows every code sent; it listens only "
            "on loopback (127.0.0.1 or ::1), not on 0.0.0.0\n",
        ),
        (
            [],
            {"dev_mailbox_host": "0.0.0.0"},  # noqa: S104
            "error: the dev mailbox listens only on loopback (127.0.0.1 or ::1), not on "
            "0.0.0.0: change HONNIN_DEV_MAILBOX_HOST\n",
        ),
    ],
)
def test_dev_mode_listens_only_on_loopback(
    tmp_path: Path, args: list[str], settings: dict[str, str], message: str
) -> None:
    result = _serve_once(tmp_path, str(free_port()), *args, env=_env(**settings))
    assert (result.returncode, result.stderr) == (1, message)
    assert not (tmp_path / "data").exists()


def test_bad_settings_are_one_line_before_anything_listens(tmp_path: Path) -> None:
    result = _serve_once(tmp_path, str(free_port()), env=_env(trusted_proxies="proxy.internal"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: invalid settings: HONNIN_TRUSTED_PROXIES: ")
    assert "'proxy.internal' is not an IP address or network" in result.stderr
    assert "Traceback" not in result.stderr


# --- running --------------------------------------------------------------------------------


def test_serve_says_passkeys_are_off_when_the_base_url_is_an_address(tmp_path: Path) -> None:
    port, mail_port = free_port(), free_port()
    address = f"http://127.0.0.1:{port}"
    process = _serve(
        "--dev",
        "--port",
        str(port),
        cwd=tmp_path,
        env=_env(dev_mailbox_port=str(mail_port), base_url=address),
    )
    _wait_until_up(process, address)
    out, err = _stop(process)
    assert process.returncode == 0, err
    assert (
        f"passkeys are off: HONNIN_BASE_URL ({address}) names an IP address, which can never "
        f"be a passkey's relying party; use a host name, e.g. http://localhost:{port}"
    ) in " ".join(out.split())


@pytest.mark.parametrize(
    ("host", "netloc", "workers"),
    [("127.0.0.1", "127.0.0.1", 1), ("127.0.0.1", "127.0.0.1", 2), ("::1", "[::1]", 1)],
)
def test_the_banner_comes_once_the_server_answers(
    tmp_path: Path, host: str, netloc: str, workers: int
) -> None:
    port, mail_port = free_port(), free_port()
    process = _serve(
        "--dev",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        cwd=tmp_path,
        env=_env(dev_mailbox_port=str(mail_port)),
    )
    base = f"http://{netloc}:{port}"
    _wait_until_up(process, base)
    # the dev mailbox takes mail for real (SMTP), and the pages show it
    with socket.create_connection(("127.0.0.1", mail_port)) as smtp:
        assert smtp.recv(1024).startswith(b"220 ")
    assert httpx.get(f"{base}/dev/mailbox").status_code == 200
    out, err = _stop(process)
    assert process.returncode == 0, err
    assert out.count(BANNER) == 1
    pages = f"http://localhost:{port}"  # a host name: passkeys work (never on an address)
    assert f"{BANNER} at {pages}  (API docs: {pages}/api/docs)" in out
    assert "passkeys are off" not in out
    assert f"SMTP on 127.0.0.1:{mail_port}; nothing leaves this machine" in out
    assert "Traceback" not in err
    assert _port_is_free(mail_port)


def test_a_failed_start_exits_non_zero_without_the_banner(tmp_path: Path) -> None:
    """The app's start-up fails (its DKIM key is missing) after the port was taken."""
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "honnin", "serve", "--dev", "--port", str(port)],
        cwd=tmp_path,
        env=_env(
            dev_mailbox_port=str(free_port()),
            dkim_domain="example.com",
            dkim_selector="s1",
            dkim_key_file=str(tmp_path / "missing.pem"),
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3  # uvicorn's "startup failed"
    assert "Application startup failed. Exiting." in result.stderr
    assert BANNER not in result.stdout
    assert _port_is_free(port)


# --- the client address behind proxies ---------------------------------------------------------


def test_uvicorn_believes_forwarded_headers_only_from_the_trusted_proxies() -> None:
    production = uvicorn_config(Settings(), "127.0.0.1", 8000, 1)
    assert production.proxy_headers is False
    dev = uvicorn_config(Settings(dev=True), "127.0.0.1", 8000, 1)
    assert (dev.proxy_headers, dev.forwarded_allow_ips) == (True, ["127.0.0.1/32", "::1/128"])
    behind = uvicorn_config(Settings(trusted_proxies="10.0.0.5, 10.1.0.0/16"), "0.0.0.0", 80, 2)  # noqa: S104
    assert (behind.proxy_headers, behind.forwarded_allow_ips) == (
        True,
        ["10.0.0.5/32", "10.1.0.0/16"],
    )


async def _password_statuses(base: str, forged: list[str]) -> list[int]:
    """Wrong passwords for one name, each request claiming another client address."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def keep_secure_cookies(response: httpx.Response) -> None:
            # outside dev mode cookies are Secure; this test speaks plain HTTP on loopback
            for cookie in client.cookies.jar:
                cookie.secure = False

        client.event_hooks["response"] = [keep_secure_cookies]
        browser = PageClient(client)
        page = await browser.get("/signin")
        page = await browser.submit(page, "submit_identifier", name="nobody@example.com")
        statuses = []
        for address in forged:
            client.headers["X-Forwarded-For"] = address
            statuses.append((await browser.submit(page, "submit_password", password="x")).status)
        return statuses


@pytest.mark.parametrize(
    ("dev", "trusted_proxies", "expected"),
    [
        # production default: nobody's X-Forwarded-For counts, all three tries are this host's
        (False, None, [400, 400, 429]),
        (True, "", [400, 400, 429]),
        # the proxy in front is this host: each forged address is a client of its own
        (True, None, [400, 400, 400]),
        (False, "127.0.0.1", [400, 400, 400]),
    ],
)
async def test_forwarded_for_moves_the_limits_only_behind_trusted_proxies(
    tmp_path: Path, dev: bool, trusted_proxies: str | None, expected: list[int]
) -> None:
    port = free_port()
    settings = {"limit_ip_checks": "2/hour", "dev_mailbox_port": str(free_port())}
    if trusted_proxies is not None:
        settings["trusted_proxies"] = trusted_proxies
    args = ["--port", str(port)]
    if dev:
        args.append("--dev")
    else:
        database = tmp_path / "honnin.db"
        settings |= {
            "secret_key": "s" * 40,
            "smtp_url": f"smtp://127.0.0.1:{free_port()}",
            "database_url": f"sqlite:///{database}",
            "base_url": f"http://127.0.0.1:{port}",
        }
        migrated = subprocess.run(
            [sys.executable, "-m", "honnin", "db", "upgrade"],
            cwd=tmp_path,
            env=_env(**settings),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert migrated.returncode == 0, migrated.stderr
    process = _serve(*args, cwd=tmp_path, env=_env(**settings))
    base = f"http://127.0.0.1:{port}"
    _wait_until_up(process, base)
    try:
        forged = ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
        assert await _password_statuses(base, forged) == expected
    finally:
        _stop(process)

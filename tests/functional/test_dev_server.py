"""The embedded default, as a newcomer runs it: `honnin serve --dev` in an empty folder."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.smtp import free_port

pytestmark = pytest.mark.slow


def honnin(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "honnin", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    port, mail_port = free_port(), free_port()
    env = {**os.environ, "HONNIN_DEV_MAILBOX_PORT": str(mail_port), "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "honnin", "serve", "--dev", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(f"the dev server did not start:\n{process.communicate()[0]}")
    yield base, tmp_path, env
    process.terminate()
    output = process.communicate(timeout=15)[0]
    assert "Traceback" not in output, output


def test_a_newcomer_gets_a_code_in_the_dev_mailbox(
    dev_server: tuple[str, Path, dict[str, str]],
) -> None:
    base, folder, env = dev_server
    assert (folder / "data" / "honnin.db").exists()
    assert (folder / "data" / "secret_key").exists()

    created = honnin("clients", "create", "My app", cwd=folder, env=env)
    assert created.returncode == 0, created.stderr
    key = re.search(r"hnn_\S+", created.stdout)
    assert key is not None

    response = httpx.post(
        f"{base}/api/v1/verifications",
        json={"to": "newcomer@example.com"},
        headers={"Authorization": f"Bearer {key.group(0)}"},
    )
    assert response.status_code == 201, response.text

    for _ in range(100):
        listing = httpx.get(f"{base}/dev/mailbox")
        link = re.search(r'href="(/dev/mailbox/[^"]+)"', listing.text)
        if link:
            break
        time.sleep(0.05)
    assert link, listing.text
    assert "newcomer@example.com" in listing.text
    mail = httpx.get(base + link.group(1)).text
    assert re.search(r"Security code: \d{6}", mail)
    assert httpx.get(base + link.group(1) + "/html").status_code == 200

    timeline = honnin("messages", "list", cwd=folder, env=env)
    assert "accepted" in timeline.stdout


def test_outside_dev_mode_it_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HONNIN_")}
    result = honnin("serve", "--port", str(free_port()), cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "HONNIN_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def _mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_the_data_folder_is_readable_by_its_owner_only(
    dev_server: tuple[str, Path, dict[str, str]],
) -> None:
    """Codes' digests, sessions, the secret and the dev mailbox's mail (codes in clear)."""
    base, folder, env = dev_server
    created = honnin("clients", "create", "My app", cwd=folder, env=env)
    key = re.search(r"hnn_\S+", created.stdout)
    assert key is not None, created.stderr
    response = httpx.post(
        f"{base}/api/v1/verifications",
        json={"to": "owner@example.com"},
        headers={"Authorization": f"Bearer {key.group(0)}"},
    )
    assert response.status_code == 201, response.text
    new_mail = folder / "data" / "mailbox" / "new"
    for _ in range(100):
        if any(new_mail.iterdir()):
            break
        time.sleep(0.05)
    [mail] = new_mail.iterdir()

    data = folder / "data"
    assert {p.name: _mode(p) for p in data.iterdir()} | {"data": _mode(data)} == {
        "data": "0o700",
        "honnin.db": "0o600",
        "honnin.db-shm": "0o600",
        "honnin.db-wal": "0o600",
        "mailbox": "0o700",
        "secret_key": "0o600",
    }
    assert {sub: _mode(data / "mailbox" / sub) for sub in ("cur", "new", "tmp")} == {
        "cur": "0o700",
        "new": "0o700",
        "tmp": "0o700",
    }
    assert _mode(mail) == "0o600"

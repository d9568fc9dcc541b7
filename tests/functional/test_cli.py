"""The operator's command line: clear output, one-line errors, never a traceback."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import event
from sqlalchemy.util import await_only
from typer.testing import CliRunner

from honnin.app import create_app
from honnin.audit.service import Origin
from honnin.cli.main import app
from honnin.config import Settings
from honnin.courier.models import MessageStatus
from honnin.limits.service import Requester
from honnin.runtime import Runtime
from honnin.support.overview import account_overview
from tests.support.clock import ShiftableClock
from tests.support.journeys import BACKUP, EMMA, client_for, to_password
from tests.support.pages import PageClient
from tests.support.smtp import Sink

PASSWORD = "correct horse battery staple"
STATUSES = ", ".join(status.value for status in MessageStatus)  # every one, in their order


class StoppedClock(ShiftableClock):
    """Time moves only when the test moves it: every time the service records is known."""

    def __init__(self) -> None:
        super().__init__()
        self.start = datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self.start + self.offset


@pytest.fixture
def clock() -> ShiftableClock:
    return StoppedClock()


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("HONNIN_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def run(cli: CliRunner, *args: str, input: str | None = None) -> tuple[int, str]:
    result = cli.invoke(app, list(args), input=input)
    # an exception that escaped (a traceback for the operator) fails the test
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


async def in_thread(cli: CliRunner, *args: str) -> tuple[int, str]:
    """`run` from an async test: the command runs its own event loop, the app's keeps going."""
    return await asyncio.to_thread(lambda: run(cli, *args))


def test_create_and_show_an_account(cli: CliRunner) -> None:
    code, out = run(
        cli, "accounts", "create", "Emma@Example.com", "--password-stdin", input=PASSWORD + "\n"
    )
    assert code == 0, out
    assert "em*****@example.com" in out

    code, out = run(cli, "accounts", "show", "emma@example.com")
    assert code == 0, out
    assert "em*****@example.com" in out
    assert "emma@example.com" not in out  # support sees hints, not addresses
    lines = [line.rstrip() for line in out.splitlines()]
    assert re.fullmatch(r"account [0-9a-f]{8}-[0-9a-f-]{27}", lines[0])
    created = re.fullmatch(r"created        (\d{4}-\d\d-\d\d \d\d:\d\d):\d\d UTC", lines[1])
    assert created
    assert lines[2:] == [
        "status         active",
        "language       en",
        "two-step       off",
        "sign-in names  em*****@example.com",
        "",
        "security info (times in UTC)",
        "kind   hint                 added             verified  last used",
        f"email  em*****@example.com  {created[1]}  no",
        "",
        "active sessions: none",
    ]


def test_two_step_verification_needs_verified_security_info(cli: CliRunner) -> None:
    run(cli, "accounts", "create", "emma@example.com", "--password-stdin", input=PASSWORD + "\n")
    code, out = run(cli, "accounts", "two-step", "emma@example.com", "on")
    assert code == 1
    assert "verify an address of this account first" in out
    run(cli, "accounts", "create", "taro@example.jp", "--verified", "--password-stdin",
        input=PASSWORD + "\n")  # fmt: skip
    code, out = run(cli, "accounts", "two-step", "taro@example.jp", "on")
    assert code == 0
    assert "two-step verification is on for ta*****@example.jp" in out
    assert run(cli, "accounts", "two-step", "taro@example.jp", "maybe")[0] == 2


def test_the_password_can_be_typed_at_a_prompt(cli: CliRunner) -> None:
    code, out = run(cli, "accounts", "create", "taro@example.jp", "--verified",
                    input=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert code == 0, out
    out = run(cli, "accounts", "show", "taro@example.jp")[1]
    created = re.search(r"created +(\S+ \d\d:\d\d)", out)
    assert created
    assert f"email  ta*****@example.jp  {created[1]}  {created[1]}" in out  # verified when added


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["accounts", "create", "not-an-address", "--password-stdin"], PASSWORD, "not a valid"),
        (["accounts", "create", "a@example.com", "--password-stdin"], "password", "at least 15"),
        (
            ["accounts", "create", "a@example.com", "--password-stdin"],
            "passwordpassword",
            "most common",
        ),
        (
            ["accounts", "create", "a@example.com", "--password-stdin"],
            "monkeymonkey9999",
            "too common or too easy",
        ),
        (["accounts", "create", "a@example.com", "--password-stdin"], "", "no password"),
        (["accounts", "show", "nobody@example.com"], None, "No account"),
        (["messages", "show", "not-an-id"], None, "No message"),
        (["clients", "create", " "], None, "name of 1 to 100"),
    ],
)
def test_errors_are_one_line_and_exit_non_zero(
    cli: CliRunner, args: list[str], stdin: str | None, message: str
) -> None:
    code, out = run(cli, *args, input=None if stdin is None else stdin + "\n")
    assert code == 1
    assert message in out
    assert out.count("error:") == 1


def test_a_taken_sign_in_name_is_refused(cli: CliRunner) -> None:
    args = ["accounts", "create", "emma@example.com", "--password-stdin"]
    assert run(cli, *args, input=PASSWORD + "\n")[0] == 0
    code, out = run(cli, *args, input=PASSWORD + "\n")
    assert code == 1
    assert "already a sign-in name" in out


def test_a_client_key_is_shown_once(cli: CliRunner) -> None:
    code, out = run(cli, "clients", "create", "Example shop")
    assert code == 0
    assert re.search(r"hnn_[0-9a-f]{12}_\S{40,}", out)


def test_messages_list_and_show_an_empty_outbox(cli: CliRunner) -> None:
    code, out = run(cli, "messages", "list")
    assert code == 0
    assert [line.rstrip() for line in out.splitlines()] == [
        "id  created  to  status",
        "times in UTC; --wide for every column",
    ]
    assert run(cli, "messages", "list", "--json") == (0, "[]\n")
    code, out = run(cli, "messages", "show", "00000000-0000-0000-0000-000000000000")
    assert (code, out) == (
        1,
        "error: No message has the id 00000000-0000-0000-0000-000000000000.\n",
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["messages", "list", "--status", "bogus"],
         f"Invalid value for '--status': 'bogus' is not one of: {STATUSES}."),
        (["messages", "list", "--status", "Accepted"],
         f"Invalid value for '--status': 'Accepted' is not one of: {STATUSES}."),
        (["accounts", "create", "a@example.com", "--locale", "fr"],
         "Invalid value for '--locale': 'fr' is not one of: en, ja."),
        (["accounts", "two-step", "a@example.com", "maybe"],
         "Invalid value for 'STATE': 'maybe' is not one of: on, off."),
    ],
)  # fmt: skip
def test_an_option_with_fixed_values_refuses_others_and_names_them(
    args: list[str], error: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A usage error (exit status 2) before anything is read or written: no database here."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("HONNIN_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"│ {error}" in result.output


@pytest.mark.parametrize(
    ("environment", "args", "message"),
    [
        ({"HONNIN_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"},
         ["messages", "list"], "cannot reach the database"),
        ({"HONNIN_DATABASE_URL": "foo"}, ["messages", "list"], "database URL must look like"),
        ({"HONNIN_DATABASE_URL": "mysql://x@y/z"}, ["messages", "list"], "not supported"),
        ({"HONNIN_CODE_LENGTH": "12"}, ["messages", "list"], "HONNIN_CODE_LENGTH"),
        ({"HONNIN_CONFIG": "/nonexistent/honnin.toml"}, ["messages", "list"], "HONNIN_CONFIG"),
        ({}, ["db", "upgrade", "bogus"], "migrations:"),
    ],
)  # fmt: skip
def test_bad_configuration_is_one_line(
    environment: dict[str, str],
    args: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("HONNIN_DATABASE_URL", f"sqlite:///{tmp_path}/honnin.db")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.output
    assert result.output.count("\n") == 1


def test_a_malformed_settings_file_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "honnin.toml").write_text("code_length = [\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["messages", "list"])
    assert result.exit_code == 1
    assert "not valid TOML" in result.output


def test_a_database_without_tables_says_to_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HONNIN_DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    result = CliRunner().invoke(app, ["messages", "list"])
    assert result.exit_code == 1
    assert "honnin db upgrade" in result.output
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(app, ["messages", "list"]).exit_code == 0


def test_dev_mode_refuses_to_listen_beyond_this_machine() -> None:
    result = CliRunner().invoke(app, ["serve", "--dev", "--host", "0.0.0.0"])  # noqa: S104
    assert result.exit_code == 1
    assert "loopback" in result.output


async def test_show_the_two_step_state_the_security_info_and_the_sessions(
    cli: CliRunner,
    clock: ShiftableClock,
    runtime: Runtime,
    emma: Any,
    browser: PageClient,
    another_browser: PageClient,
    api: httpx.AsyncClient,
    sink: Sink,
) -> None:
    t = [clock.now() + timedelta(minutes=n) for n in range(7)]  # emma was created at t[0]
    clock.advance(minutes=1)  # t[1]: a browser signs in with a code sent to her address
    page = await browser.submit(await to_password(browser), "send_code")
    page = await browser.submit(page, "submit_code", code=await sink.wait_for_code(EMMA))
    assert page.path == "/account"
    clock.advance(minutes=1)  # t[2]: another browser, with the password
    page = await to_password(another_browser)
    assert (await another_browser.submit(page, "submit_password", password=PASSWORD)).path == (
        "/account"
    )
    clock.advance(minutes=1)  # t[3]: an application signs her in twice, and out once
    tokens = []
    for _ in range(2):
        flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
        url = f"/api/v1/flows/{flow['id']}"
        await api.post(url, json={"action": "submit_identifier", "name": EMMA})
        done = await api.post(url, json={"action": "submit_password", "password": PASSWORD})
        tokens.append(done.json()["session_token"])
    gone = await api.delete("/api/v1/sessions/current", headers={"X-Session-Token": tokens[0]})
    assert gone.status_code == 204
    clock.advance(minutes=1)  # t[4]: a second address is added, and verified at t[5]
    proof = await runtime.proofs.add(emma.id, "email", BACKUP)
    clock.advance(minutes=1)
    me = Requester(ip="198.51.100.1")
    sent = await runtime.proofs.send_code(emma.id, proof.id, requester=me, locale="en")
    emailed = await sink.wait_for_code(BACKUP)
    await runtime.proofs.confirm(emma.id, sent.challenge_id, emailed, requester=me)
    clock.advance(minutes=1)  # t[6]: a third address, never verified
    await runtime.proofs.add(emma.id, "email", "emma.old@example.net")
    assert (await in_thread(cli, "accounts", "two-step", EMMA, "on"))[0] == 0

    code, out = await in_thread(cli, "accounts", "show", EMMA, "--json")
    assert code == 0, out
    shown = json.loads(out)
    sessions = shown.pop("sessions")
    security_info = shown.pop("security_info")
    assert shown.pop("pending_changes") == []
    assert (shown.pop("authenticator_apps"), shown.pop("passkeys")) == ([], [])
    assert shown == {
        "id": str(emma.id),
        "created_at": iso(t[0]),
        "status": "active",
        "locale": "en",
        "two_step": True,
        "sign_in_names": ["em*****@example.com"],
    }
    assert [{k: v for k, v in p.items() if k != "id"} for p in security_info] == [
        {
            "kind": "email",
            "hint": "em*****@example.com",
            "verified": True,
            "added_at": iso(t[0]),
            "verified_at": iso(t[0]),
            "last_used_at": iso(t[1]),
        },
        {
            "kind": "email",
            "hint": "em*****@example.org",
            "verified": True,
            "added_at": iso(t[4]),
            "verified_at": iso(t[5]),
            "last_used_at": iso(t[5]),
        },
        {
            "kind": "email",
            "hint": "em*****@example.net",
            "verified": False,
            "added_at": iso(t[6]),
            "verified_at": None,
            "last_used_at": None,
        },
    ]
    assert security_info[1]["id"] == str(proof.id)
    ttl = timedelta(days=14)
    assert [{k: v for k, v in s.items() if k != "id"} for s in sessions] == [
        {"started_at": iso(t[1]), "method": "code", "expires_at": iso(t[1] + ttl),
         "device": "browser", "browser": 1, "client": None},
        {"started_at": iso(t[2]), "method": "password", "expires_at": iso(t[2] + ttl),
         "device": "browser", "browser": 2, "client": None},
        {"started_at": iso(t[3]), "method": "password", "expires_at": iso(t[3] + ttl),
         "device": "api", "browser": None, "client": "Example shop"},
    ]  # fmt: skip
    assert "token" not in out
    assert "digest" not in out
    # the same read model, for a reader who may see the addresses (the holder's fresh session)
    own = await account_overview(runtime.db, clock, EMMA, masked=False)
    assert [p.hint for p in own.account.proofs] == [EMMA, BACKUP, "emma.old@example.net"]
    assert own.account.sign_in_names == [EMMA]

    code, out = await in_thread(cli, "accounts", "show", EMMA)
    assert code == 0, out
    lines = [line.rstrip() for line in out.splitlines()]
    at = [f"{moment:%Y-%m-%d %H:%M}" for moment in t]
    expires = [f"{moment + ttl:%Y-%m-%d %H:%M}" for moment in t]
    assert lines[4:] == [
        "two-step       on",
        "sign-in names  em*****@example.com",
        "",
        "security info (times in UTC)",
        "kind   hint                 added             verified          last used",
        f"email  em*****@example.com  {at[0]}  {at[0]}  {at[1]}",
        f"email  em*****@example.org  {at[4]}  {at[5]}  {at[5]}",
        f"email  em*****@example.net  {at[6]}  no",
        "",
        "active sessions (times in UTC)",
        "started           how       expires           device",
        f"{at[1]}  code      {expires[1]}  browser 1",
        f"{at[2]}  password  {expires[2]}  browser 2",
        f"{at[3]}  password  {expires[3]}  API: Example shop",
    ]


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def test_a_browser_stays_one_browser_across_a_key_rotation(
    settings: Settings, clock: ShiftableClock
) -> None:
    """Sessions are numbered by browser, whichever secret key made their device digest: a
    browser signed in before `HONNIN_SECRET_KEY` changed and again after it is one browser."""

    @asynccontextmanager
    async def running(**changes: Any) -> AsyncIterator[FastAPI]:
        app = create_app(settings.model_copy(update=changes), clock=clock)
        async with app.router.lifespan_context(app):
            yield app

    async def sign_in(app: FastAPI, cookies: httpx.Cookies | None = None) -> httpx.Cookies:
        async with client_for(app) as client:
            if cookies is not None:
                client.cookies = cookies
            browser = PageClient(client)
            page = await to_password(browser)
            page = await browser.submit(page, "submit_password", password=PASSWORD)
            assert page.path == "/account"
            return httpx.Cookies(client.cookies)

    async with running() as app:
        await app.state.runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
        cookies = await sign_in(app)  # t[0]: the first browser, under the old key
    old = settings.secret_key
    async with running(
        secret_key=SecretStr("new-secret-" + "n" * 40), secret_key_previous=old
    ) as app:
        clock.advance(minutes=1)
        await sign_in(app)  # t[1]: a second browser, under the new key
        clock.advance(minutes=1)
        await sign_in(app, cookies)  # t[2]: the first browser again, under the new key
        overview = await account_overview(app.state.runtime.db, clock, EMMA)
    assert [s.browser for s in overview.sessions] == [1, 2, 1]


async def test_the_overview_is_one_moment_of_the_account(
    runtime: Runtime, emma: Any, clock: ShiftableClock
) -> None:
    """What support staff see is one moment: a change committed while the overview is being
    read (two-step turned on, an address added) shows whole or not at all."""

    async def meanwhile() -> None:
        await runtime.accounts.set_two_step(EMMA, True)
        await runtime.proofs.add(emma.id, "email", BACKUP)

    changed: list[bool] = []

    def after_the_account_row(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        if "FROM accounts" in statement and not changed:
            changed.append(True)
            await_only(meanwhile())  # another transaction commits between two of its reads

    engine = runtime.db.read_engine.sync_engine
    event.listen(engine, "after_cursor_execute", after_the_account_row)
    try:
        during = await account_overview(runtime.db, clock, EMMA)
    finally:
        event.remove(engine, "after_cursor_execute", after_the_account_row)
    after = await account_overview(runtime.db, clock, EMMA)
    assert changed == [True]
    assert (during.account.two_step, len(during.account.proofs)) == (False, 1)
    assert (after.account.two_step, len(after.account.proofs)) == (True, 2)


async def test_the_waiting_changes_and_the_audit_log(
    cli: CliRunner, clock: ShiftableClock, runtime: Runtime, emma: Any, sink: Sink
) -> None:
    """What support sees of a scheduled removal (`accounts show`) and of every change
    (`accounts audit`)."""
    origin = Origin("198.51.100.7", "Firefox on Android")
    async with runtime.db.transaction() as tx:
        account = await runtime.accounts.record(tx, emma.id)
        assert account is not None
        removal = await runtime.security.remove(tx, account, emma.proofs[0].id, origin)
    assert removal.due_at == clock.now() + timedelta(days=30)
    code, out = await in_thread(cli, "accounts", "show", EMMA, "--json")
    assert code == 0, out
    (change,) = json.loads(out)["pending_changes"]
    assert change["change"] == "remove_proof"
    assert change["hint"] == "em*****@example.com"
    assert change["due_at"] == iso(removal.due_at)
    code, out = await in_thread(cli, "accounts", "show", EMMA)
    assert "changes waiting" in out
    assert change["id"] in out

    code, out = await in_thread(cli, "accounts", "audit", EMMA, "--json")
    assert code == 0, out
    (line,) = json.loads(out)
    assert line["action"] == "removal_scheduled"
    assert line["detail"]["hint"] == "em*****@example.com"
    assert (line["ip"], line["agent"]) == ("198.51.100.7", "Firefox on Android")
    assert EMMA not in out  # masked hints only
    code, out = await in_thread(cli, "accounts", "audit", EMMA)
    assert "removal_scheduled" in out
    assert "Firefox on Android" in out

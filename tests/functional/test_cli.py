"""The operator's command line: clear output, one-line errors, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from honnin.cli.main import app

PASSWORD = "correct horse battery staple"


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
    assert re.search(r"email\s+│\s+em\*\*\*\*\*@example.com\s+│\s+no", out)


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
    assert run(cli, "accounts", "two-step", "taro@example.jp", "maybe")[0] == 1


def test_the_password_can_be_typed_at_a_prompt(cli: CliRunner) -> None:
    code, out = run(cli, "accounts", "create", "taro@example.jp", "--verified",
                    input=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert code == 0, out
    assert re.search(r"│\s+yes\s+│", run(cli, "accounts", "show", "taro@example.jp")[1])


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["accounts", "create", "not-an-address", "--password-stdin"], PASSWORD, "not a valid"),
        (["accounts", "create", "a@example.com", "--password-stdin"], "password", "too common"),
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
    assert "status" in out
    code, out = run(cli, "messages", "show", "00000000-0000-0000-0000-000000000000")
    assert code == 1


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

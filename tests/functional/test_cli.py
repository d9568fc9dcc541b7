"""The operator's command line: clear output, one-line errors, never a traceback."""

from __future__ import annotations

import re

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
    assert "Traceback" not in result.output
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


def test_an_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HONNIN_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    result = CliRunner().invoke(app, ["messages", "list"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.count("\n") == 1


def test_a_database_without_tables_says_to_upgrade(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HONNIN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/empty.db")
    result = CliRunner().invoke(app, ["messages", "list"])
    assert result.exit_code == 1
    assert "honnin db upgrade" in result.output
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(app, ["messages", "list"]).exit_code == 0

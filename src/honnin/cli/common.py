"""What every command shares: settings, one-line errors, an event loop."""

from __future__ import annotations

import asyncio
import json
import tomllib
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import typer
from alembic.util import CommandError
from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from rich.console import Console
from sqlalchemy.exc import ArgumentError, DBAPIError

from honnin.config import Settings
from honnin.db import Database
from honnin.errors import HonninError

T = TypeVar("T")

console = Console(highlight=False)


def fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(1)


def one_of(values: Iterable[str]) -> Callable[[str | None], str | None]:
    """A parameter callback that refuses anything outside `values` as a usage error (exit
    status 2) naming the valid ones. Typer's own Enum/Literal check says the same with a
    stray "Value error," in front, so the commands check with this instead."""
    allowed = tuple(values)

    def check(value: str | None) -> str | None:
        if value is not None and value not in allowed:
            raise typer.BadParameter(f"{value!r} is not one of: {', '.join(allowed)}.")
        return value

    return check


def print_json(value: Any) -> None:
    """Print views (dataclasses, lists of them) as JSON for scripts: keys in the views' field
    order, times as ISO 8601 in UTC, ids as strings, no colour and no wrapping."""
    typer.echo(json.dumps(to_jsonable_python(value), ensure_ascii=False, indent=2))


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn anything an operator can cause into one clear line and exit status 1."""
    try:
        yield
    except HonninError as error:
        fail(str(error))
    except ValidationError as error:
        problems = "; ".join(
            (f"HONNIN_{'_'.join(str(p) for p in e['loc']).upper()}: " if e["loc"] else "")
            + e["msg"].removeprefix("Value error, ")
            for e in error.errors()
        )
        fail(f"invalid settings: {problems}")
    except tomllib.TOMLDecodeError as error:
        fail(f"the settings file is not valid TOML: {error}")
    except CommandError as error:
        fail(f"migrations: {error}")
    except ArgumentError as error:
        fail(str(error))
    except DBAPIError as error:
        reason = str(error.orig).splitlines()[0] if error.orig else str(error)
        fail(f"database: {reason} (is it reachable, and up to date? run: honnin db upgrade)")
    except OSError as error:
        fail(str(error))


def load_settings() -> Settings:
    with one_line_errors():
        return Settings()
    raise AssertionError("unreachable")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    with one_line_errors():
        return asyncio.run(coroutine)
    raise AssertionError("unreachable")


def with_database(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` against the configured database, then close it."""
    settings = load_settings()

    async def go() -> T:
        db = Database(settings.effective_database_url)
        try:
            return await work(db)
        except OSError as error:
            fail(f"cannot reach the database: {error}")
        finally:
            await db.dispose()

    return run(go())

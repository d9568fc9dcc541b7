"""Hot statements run straight on the driver, compiled once.

`Connection.execute` costs about 40 µs a statement on SQLite and 150 µs on PostgreSQL on this
class of machine (cache key, execution context, result metadata, two greenlet hops), against
3–10 µs of work in SQLite itself; a verification runs a dozen statements. A `Prepared`
statement is compiled by SQLAlchemy once per database (and per number of values of each
expanding `IN`), and its parameters and rows go through the same type processors
`Connection.execute` would use — only the per-call machinery around them is skipped.

It runs in the connection's current transaction: on SQLite `Tx.begin` (or, on SQLAlchemy's
paths, the engine's `begin` hook) has sent BEGIN already; on PostgreSQL SQLAlchemy's asyncpg
adapter starts its transaction with the first statement, so this does the same through the
adapter (its prepared-statement cache, its transaction, its error translation: the
`DBAPIError`s callers catch are the same).
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement, Insert
from sqlalchemy.sql.compiler import SQLCompiler

# a placeholder as SQLAlchemy renders it (qmark on SQLite, numeric_dollar on asyncpg), or a
# list left for execution time (an expanding IN); a string literal written into the SQL (the
# outbox's statuses) is matched whole, so that nothing inside it is taken for one
_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\?|\$\d+|__\[POSTCOMPILE_(\w+)\]")
_STATUS_COUNT = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")

Processor = Callable[[Any], Any] | None


class Rows:
    """A statement's result: SQLAlchemy `Result`'s reading methods that the hot paths use."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def all(self) -> list[Any]:
        return self._rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise LookupError(f"one row expected, {len(self._rows)} found")
        return self._rows[0]

    def one_or_none(self) -> Any:
        if len(self._rows) > 1:
            raise LookupError(f"one row at most expected, {len(self._rows)} found")
        return self._rows[0] if self._rows else None

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalars(self) -> list[Any]:
        return [row[0] for row in self._rows]


def _row_class(keys: Sequence[str]) -> type:
    """Rows read by attribute (`row.status`), by position, and as `row._mapping`."""
    base = namedtuple("Row", keys, rename=True)  # type: ignore[misc]
    return type("Row", (base,), {"__slots__": (), "_mapping": property(base._asdict)})


@dataclass(frozen=True)
class _Form:
    """A statement compiled for one database and one shape of parameters."""

    sql: str
    names: tuple[tuple[str, int | None], ...]  # per placeholder: parameter, index in a list
    processors: tuple[Processor, ...]  # per placeholder
    literals: Mapping[str, Any]  # values bound by the statement itself
    defaults: Mapping[str, Callable[[], Any]]  # Python-side column defaults (inserts)
    row: type | None  # of result rows; None: no rows
    results: tuple[Processor, ...]

    def arguments(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        args = []
        for (name, index), process in zip(self.names, self.processors, strict=True):
            if name in params:
                value = params[name]
            elif name in self.defaults:
                value = self.defaults[name]()
            else:
                value = self.literals[name]
            if index is not None:
                value = value[index]
            args.append(process(value) if process else value)
        return tuple(args)

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        if self.row is None:
            return []
        make, results = self.row, self.results
        return [
            make(*(process(v) if process else v for v, process in zip(r, results, strict=True)))
            for r in raw
        ]


def _default_of(column: Any) -> Callable[[], Any]:
    """A column's Python-side default, as SQLAlchemy fills it in for an INSERT without it."""
    default = column.default
    if default is not None and default.is_callable:
        return lambda: default.arg(None)  # SQLAlchemy's wrapper takes an execution context
    if default is not None and default.is_scalar:
        return lambda: default.arg
    raise ValueError(f"{column.key}: only scalar and callable defaults are prepared")


def _inserts_values(statement: ClauseElement) -> bool:
    """An INSERT of the given values (its columns: the parameters), not of a SELECT."""
    return isinstance(statement, Insert) and statement.select is None


def _compile(statement: ClauseElement, dialect: Dialect, params: Mapping[str, Any]) -> _Form:
    keys = sorted(params) if _inserts_values(statement) else None
    compiled = statement.compile(dialect=dialect, column_keys=keys)
    assert isinstance(compiled, SQLCompiler)
    positions = compiled.positiontup or []
    expanding = {m[1] for m in _PLACEHOLDER.finditer(compiled.string) if m[1]}
    # qmark: each placeholder takes the next name; numeric: `$n` names the n-th name that is
    # not a list, and may appear more than once (as may a list)
    numeric = dialect.paramstyle.startswith("numeric")
    plain = [name for name in positions if name not in expanding]
    names: list[tuple[str, int | None]] = []
    processors: list[Processor] = []
    rendered: dict[str, str] = {}
    found = iter(positions)

    def placeholder(match: re.Match[str]) -> str:
        if match[0].startswith("'"):
            return match[0]  # a literal, left as it is
        if numeric:
            name = match[1] or plain[int(match[0][1:]) - 1]
            if name in rendered:
                return rendered[name]
        else:
            name = next(found)
        bind = compiled.binds[name]
        if bind.literal_execute:  # written into the SQL at execution: not done here
            raise ValueError(f"{name}: literal_execute parameters are not prepared")
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        values = params.get(name, bind.effective_value)
        if name in expanding and not values:
            raise ValueError(f"{name}: an empty list")  # IN () is an error on PostgreSQL
        pieces = []
        for index in range(len(values)) if name in expanding else [None]:
            names.append((name, index))
            processors.append(process)
            pieces.append(f"${len(names)}" if numeric else "?")  # a cast after `$n` stays
        rendered[name] = ", ".join(pieces)
        return rendered[name]

    sql = _PLACEHOLDER.sub(placeholder, compiled.string)
    leftover = not numeric and next(found, None) is not None
    if leftover or set(positions) != {name for name, _index in names}:
        raise ValueError(f"placeholders and parameters do not match: {compiled.string}")
    defaults = {column.key: _default_of(column) for column in compiled.insert_prefetch}
    if compiled.update_prefetch:
        raise ValueError("onupdate defaults are not prepared")
    columns = compiled._result_columns
    return _Form(
        sql=sql,
        names=tuple(names),
        processors=tuple(processors),
        literals={name: compiled.binds[name].effective_value for name in positions},
        defaults=defaults,
        row=_row_class([c.keyname for c in columns]) if columns else None,
        results=tuple(
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        ),
    )


class Prepared:
    """A statement to run with `run` (or `Tx.run`); build it once, at import."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._forms: dict[Any, _Form] = {}

    def form(self, dialect: Dialect, params: Mapping[str, Any]) -> _Form:
        shape = tuple(
            (k, len(v) if isinstance(v, list | tuple) else None) for k, v in params.items()
        )
        key = (dialect.name, frozenset(shape))
        form = self._forms.get(key)
        if form is None:
            form = self._forms[key] = _compile(self.statement, dialect, params)
        return form


async def run(
    adapted: Any,
    engine: Engine,
    prepared: Prepared,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    invalidate: Callable[[], Awaitable[None]],
) -> Rows:
    """Run `prepared` on `adapted` (a DBAPI connection as SQLAlchemy adapts it, of `engine`);
    a sequence of parameter sets runs as one executemany (inserts). `invalidate` drops the
    connection when the database broke it."""
    dialect = engine.dialect
    many = not isinstance(params, Mapping)
    sets: Sequence[Mapping[str, Any]] = params if many else [params]  # type: ignore[assignment,list-item]
    if not sets:
        return Rows([], 0)
    form = prepared.form(dialect, sets[0])
    if many and any(p.keys() != sets[0].keys() for p in sets):
        raise ValueError("every row of an executemany needs the same columns")
    arguments = [form.arguments(p) for p in sets]
    # the engine's cursor events still see each statement (tests and tools count them)
    events, shown = engine.dispatch, arguments if many else arguments[0]
    if events.before_cursor_execute:
        events.before_cursor_execute(None, None, form.sql, shown, None, many)
    try:
        if dialect.name == "sqlite":
            raw, count = await adapted.driver_connection.run(form.sql, arguments, many=many)
        else:
            raw, count = await _asyncpg(adapted, dialect, form.sql, arguments, many=many)
    except DBAPIError:
        raise
    except Exception as error:
        dbapi = dialect.loaded_dbapi
        if not isinstance(error, dbapi.Error):
            raise
        lost = dialect.is_disconnect(error, adapted, None)
        if lost:
            await invalidate()
        raise DBAPIError.instance(
            form.sql, arguments, error, dbapi.Error, connection_invalidated=lost
        ) from error
    if events.after_cursor_execute:
        events.after_cursor_execute(None, None, form.sql, shown, None, many)
    return Rows(form.rows(raw), count)


async def _asyncpg(
    adapted: Any, dialect: Dialect, sql: str, arguments: list[tuple[Any, ...]], *, many: bool
) -> tuple[list[Any], int]:
    """As SQLAlchemy's asyncpg cursor runs a statement (`_prepare_and_execute`)."""
    async with adapted._execute_mutex:
        if adapted._transaction is None:
            await adapted._start_transaction()
        try:
            if many:
                await adapted._connection.executemany(sql, arguments)
                return [], -1
            statement, _attributes = await adapted._prepare(
                sql,
                dialect._invalidate_schema_cache_asof,  # type: ignore[attr-defined]
            )
            rows = await statement.fetch(*arguments[0])
        except Exception as error:
            adapted._handle_exception(error)  # raises it as the adapter's DBAPI error
            raise
        count = _STATUS_COUNT.match(statement.get_statusmsg() or "")
        return rows, int(count[1]) if count else -1

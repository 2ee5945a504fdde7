"""Database plumbing: SQLite pragmas and write transactions that begin IMMEDIATE."""
from __future__ import annotations

import contextvars
import threading
import time
from collections import namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast

from cachetools import LRUCache
from flask import Flask, has_request_context, request
from sqlalchemy import Select, Table, event, exc, inspect, text
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine, Result
from sqlalchemy.orm import make_transient_to_detached

from perfapp.extensions import db

T = TypeVar("T")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_force_write: contextvars.ContextVar[bool] = contextvars.ContextVar("perfapp_force_write", default=False)


def utcnow() -> datetime:
    """Naive UTC now: every datetime column stores naive UTC on both engines."""
    return datetime.now(UTC).replace(tzinfo=None)


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run through Session.execute matched. Session.execute is
    typed as returning a Result; for those statements it is a CursorResult, which has rowcount."""
    return cast(CursorResult[Any], result).rowcount


def run(statement: Any, params: dict[str, Any] | None = None) -> CursorResult[*tuple[Any, ...]]:
    """Run a column-only SELECT on the session's connection, as Core: the rows, without the ORM's
    per-statement work (ORM execution options, compile state, result wrapping), which measured
    0.1-0.25 ms a statement on the pages every viewer opens, more than SQLite running it. The
    session's pending changes are flushed first, as Session.execute would. Statements that load
    entities go through the session as usual."""
    session = db.session()
    if session.autoflush:
        session.flush()  # returns at once when nothing is pending
    return session.connection().execute(statement, params or {})


class _Built(NamedTuple):
    """A statement compiled for one dialect, with what running it on the cursor needs."""

    sql: str
    defaults: dict[str, Any]
    positional: tuple[str, ...] | None
    bind_processors: tuple[tuple[str, Any], ...]  # (name, processor) for parameters that need one
    processors: list[Any]  # a result processor per column (None: taken as the driver gives it)
    row: Any  # the rows' named tuple class


class Prepared:
    """A column-only SELECT compiled once per dialect and run on the session's DBAPI cursor, its
    parameters and values processed by each one's type as SQLAlchemy would (SQLite's dates and
    booleans), its rows named tuples with the names SQLAlchemy's rows have.

    For the statements every page view runs (the login query, Home's, a profile's):
    SQLAlchemy's per-execution work (the compiled-cache lookup, the execution context, reading
    the cursor's description, result wrapping) cost 0.24 ms a call through Core and 0.67 ms
    through the ORM on PostgreSQL, the cursor 0.15 ms (bench: the login query was 16% of a kept
    page's CPU). No parameter may expand (IN lists) or be rendered at execution: refused when
    built (`rows` then runs the statement through Core). The engine's cursor events run (before
    and after the cursor's execute), without an execution context."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._built: dict[str, _Built] = {}

    def _build(self, dialect: Dialect, names: Iterator[str]) -> _Built:
        compiled = self.statement.compile(dialect=dialect)
        sql = compiled.string
        if "POSTCOMPILE" in sql:
            raise ValueError("Prepared statements take no expanding or literal-execute parameters")
        bind_processors = tuple(
            (name, process) for name, bind in compiled.binds.items()
            if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None)
        defaults = dict(compiled.construct_params(dict.fromkeys(names)))
        positional = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        processors = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                      for column in self.statement.selected_columns]
        row = namedtuple("Row", self.statement.selected_columns.keys(), rename=True)  # type: ignore[misc]
        return _Built(sql, defaults, positional, bind_processors, processors, row)

    def _run(self, binds: dict[str, Any], fetch: Callable[[Any], Any]) -> tuple[Any, _Built]:
        session = db.session()
        if session.autoflush:
            session.flush()  # returns at once when nothing is pending
        connection = session.connection()
        dialect = connection.dialect
        built = self._built.get(dialect.name)
        if built is None:
            built = self._built[dialect.name] = self._build(dialect, iter(binds))
        params: Any = {**built.defaults, **binds}
        for name, process in built.bind_processors:
            if params.get(name) is not None:
                params[name] = process(params[name])
        if built.positional is not None:
            params = [params[name] for name in built.positional]
        cursor = connection.connection.cursor()
        try:
            # The engine's cursor events still see it (SQL logging, tests counting statements);
            # they are documented to take no execution context (None).
            for listener in connection.dispatch.before_cursor_execute:
                listener(connection, cursor, built.sql, params, None, False)
            cursor.execute(built.sql, params)
            for listener in connection.dispatch.after_cursor_execute:
                listener(connection, cursor, built.sql, params, None, False)
            return fetch(cursor), built
        except dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, cursor, built.sql, params, error) from error
        finally:
            with suppress(Exception):  # a dead connection's cursor
                cursor.close()

    @staticmethod
    def _converted(built: _Built, row: Any) -> Any:
        return built.row._make(value if process is None or value is None else process(value)
                               for process, value in zip(built.processors, row, strict=True))

    def one_or_none(self, binds: dict[str, Any]) -> Any | None:
        """The statement's one row for these bind parameters (None when there is none)."""
        row, built = self._run(binds, lambda cursor: cursor.fetchone())
        return None if row is None else self._converted(built, row)

    def all(self, binds: dict[str, Any]) -> list[Any]:
        """The statement's rows for these bind parameters."""
        found, built = self._run(binds, lambda cursor: cursor.fetchall())
        if not any(built.processors):
            return [built.row._make(row) for row in found]
        return [self._converted(built, row) for row in found]


#: statement -> its Prepared, or None where it cannot be (an expanding parameter): `rows`
_prepared: LRUCache[Select[Any], Prepared | None] = LRUCache(maxsize=1024)
_prepared_lock = threading.Lock()


def rows(statement: Select[Any], params: dict[str, Any]) -> list[Any]:
    """A column-only SELECT's rows, as `run(statement, params).all()` would give them (named
    tuples rather than SQLAlchemy's rows), run on the cursor (`Prepared`) for a statement built
    once and run again and again (a hot page's, built under functools.cache): the compiled
    form is kept with the statement object. One with an expanding parameter runs through Core."""
    with _prepared_lock:  # cachetools' caches are not thread-safe (a hit reorders the LRU)
        known = statement in _prepared
        prepared = _prepared.get(statement)
    if not known:
        prepared = Prepared(statement)
        dialect = db.session().get_bind().dialect
        try:
            prepared._built[dialect.name] = prepared._build(dialect, iter(params))
        except ValueError:
            prepared = None
        with _prepared_lock:
            _prepared[statement] = prepared
    if prepared is None:
        return list(run(statement, params).all())
    return prepared.all(params)


def _wrapped(connection: Connection, cursor: Any, sql: str, params: Any, error: Any) -> exc.StatementError:
    """A driver's error raised on the cursor, as SQLAlchemy raises it from its own executions
    (an OperationalError, say), so perfapp.core.errors answers 503 for a lost database. A lost
    connection (a server restart: every pooled connection is dead) is invalidated, and the pool
    replaced as SQLAlchemy does on a disconnect, so the next requests get live connections, and
    the session's rollback at the end of this one is not tried on the dead one (that raised out
    of the request's teardown: a 500 instead of the 503)."""
    dialect = connection.dialect
    disconnect = dialect.is_disconnect(error, connection.connection, cursor)
    if disconnect:
        connection.invalidate(error)
        connection.engine.dispose()  # the pool's other connections are as dead: closed, new ones next
    return exc.DBAPIError.instance(sql, params, error, dialect.loaded_dbapi.Error,
                                   connection_invalidated=disconnect, dialect=dialect)


def attach(model: type[T], values: dict[str, Any]) -> T:
    """The session's instance of `model` for this row (its column attributes' values, as loaded):
    the one the session already holds, else one made from the values as a query would load it
    (unchanged, unloaded attributes load on first use)."""
    session = db.session()
    mapper = inspect(model)
    key = mapper.identity_key_from_primary_key([values[mapper.get_property_by_column(c).key]
                                                for c in mapper.primary_key])
    held = session.identity_map.get(key)
    if held is not None:
        return cast(T, held)
    instance = mapper.class_manager.new_instance()
    inspect(instance).dict.update(values)  # as a query's loader writes them (set_committed_value: 4x)
    make_transient_to_detached(instance)
    session.add(instance)
    return cast(T, instance)


def table_of(model: type[Any]) -> Table:
    """The Table a model is mapped to (DeclarativeBase types __table__ as any FROM clause)."""
    table = model.__table__
    assert isinstance(table, Table), f"{model.__name__} is not mapped to one table"
    return table


def get_row(model: type[T], row_id: int | None) -> T | None:
    """The row with this id, or None for an absent, malformed (-1) or unknown id."""
    if row_id is None or row_id <= 0:
        return None
    return db.session.get(model, row_id)


def add_row(row: T) -> T:
    """Add a new row and flush, so it has its id."""
    db.session.add(row)
    db.session.flush()
    return row


def as_datetime(value: datetime | str) -> datetime:
    """A datetime from an aggregate (min/max): SQLite returns those as text, without the column's type."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


@contextmanager
def write_transaction() -> Iterator[None]:
    """Mark the next transactions in this context as writes (BEGIN IMMEDIATE on SQLite)."""
    token = _force_write.set(True)
    try:
        yield
    finally:
        _force_write.reset(token)


def _is_write() -> bool:
    if _force_write.get():
        return True
    if has_request_context():
        return request.method not in SAFE_METHODS
    # CLI commands and background jobs: take the write lock up front so that
    # a read-then-write never fails with "database is locked" halfway through.
    return True


def _configure_sqlite(engine: Engine, app: Flask) -> None:
    memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event decide how each transaction opens.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        # Writers queue behind each other; under heavy load a burst of writers can wait
        # several seconds, which is better than failing with "database is locked".
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        if not memory:
            cur.execute(f"PRAGMA mmap_size={int(app.config.get('SQLITE_MMAP_BYTES', 0))}")
            cur.execute(f"PRAGMA cache_size=-{int(app.config.get('SQLITE_CACHE_KIB', 2000))}")
        # A storage quota (SQLITE_MAX_PAGE_COUNT): tests and bench/crash.py fill the "disk" with it.
        max_page_count = app.config.get("SQLITE_MAX_PAGE_COUNT")
        if max_page_count:
            cur.execute(f"PRAGMA max_page_count={int(max_page_count)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn) -> None:
        # Readers in WAL never block; writers queue on the RESERVED lock right at
        # BEGIN, where busy_timeout applies, instead of failing at their first write.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _is_write() else "BEGIN")


def empty_table(conn: Connection, table: Table) -> None:
    """Remove every row of a table, also of an append-only one (tests, seed wipes, restores).

    An append-only table (`info={"append_only": True}`, e.g. the audit log) has triggers that
    refuse DELETE. PostgreSQL: TRUNCATE fires no row-level DELETE trigger (and no request ever
    issues it). SQLite has no TRUNCATE and its DELETE always fires the trigger: the table is
    dropped and created again, which recreates its triggers (the table's after_create DDL).
    """
    if not table.info.get("append_only"):
        conn.execute(table.delete())
    elif conn.dialect.name == "postgresql":
        conn.execute(text(f"TRUNCATE TABLE {conn.dialect.identifier_preparer.quote(table.name)}"))
    else:
        table.drop(conn)
        table.create(conn)


IDLE_PING_SECONDS = 30.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled server connection before use only when it has been idle a while.

    SQLAlchemy's pool_pre_ping checks on every checkout: a round trip per request, which cost
    a third of a cached page on PostgreSQL (bench/pages.py). A connection dropped by a server
    restart or a proxy's idle timeout has almost always been idle; a busy one is pinged by use.
    A failed ping makes the pool retry with a new connection, as pre_ping would.
    """

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection, record) -> None:
        record.info["perfapp_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection, record, _proxy) -> None:
        since = record.info.get("perfapp_idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001  (any failure means: not usable)
            raise exc.DisconnectionError() from error
        if not alive:
            raise exc.DisconnectionError()


_LOCKING = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE")


def _reads_without_transaction(engine: Engine) -> None:
    """PostgreSQL: a page view's reads run outside a transaction, until its first write.

    psycopg sends BEGIN as a round trip of its own before a transaction's first statement, and the
    pool's reset sends ROLLBACK when the connection goes back: two of a hot page's eight or so
    round trips, each costing the server more than the page's indexed lookups. PostgreSQL's
    default isolation (read committed) gives every statement its own snapshot inside a
    transaction too, so reads see exactly what they would have. A request that does write (a
    GET never should) gets a transaction from its first statement that is not a plain SELECT on,
    and SELECT ... FOR UPDATE counts as a write (its lock must last until the commit).
    """

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection, _record, _proxy) -> None:
        if has_request_context() and not _is_write():
            dbapi_connection.autocommit = True

    @event.listens_for(engine, "checkin")
    def on_checkin(dbapi_connection, _record) -> None:
        if dbapi_connection is not None and getattr(dbapi_connection, "autocommit", False):
            with suppress(Exception):  # a broken connection: the pool discards it
                dbapi_connection.autocommit = False

    @event.listens_for(engine, "before_cursor_execute")
    def before_execute(conn, _cursor, statement, _parameters, _context, _many) -> None:
        raw = conn.connection.dbapi_connection
        if raw.autocommit and not (statement.lstrip()[:6].upper() == "SELECT"
                                   and not any(lock in statement for lock in _LOCKING)):
            raw.autocommit = False  # a write: from here on, one transaction until commit


def init_db(app: Flask) -> None:
    """Bind engine-level behaviour once the engine exists."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            # A fresh clone has no folder for a file named in DATABASE_URL; SQLite won't make it.
            if engine.url.database and engine.url.database != ":memory:":
                Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
            _configure_sqlite(engine, app)
        else:
            _ping_when_idle(engine)
            if app.config.get("READS_WITHOUT_TRANSACTION", True):
                _reads_without_transaction(engine)

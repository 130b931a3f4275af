"""The registry's metadata in SQL: one code path (SQLAlchemy Core) for SQLite and PostgreSQL.

Every write runs in one transaction that first takes the registry's write
lock — ``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR UPDATE`` on the head row
elsewhere — so version numbers and the event chain advance one writer at a
time, and a failed write leaves the previous state intact.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from mlprod.audit import GENESIS, line_hash, seal
from mlprod.errors import (
    ConfigurationError,
    DatabaseUnavailable,
    IntegrityError,
    MissingDependency,
    StorageError,
)
from mlprod.models._keyed import sign

__all__ = ["SqlMetadata", "Writer", "tables"]

_PREFIX = "mlprod_registry_"
_SCHEMA_VERSION = 1
_LOCK_KEY = 0x6D6C7072  # pg advisory lock for schema creation ("mlpr")
_SQLITE_DAMAGED = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB
_SQLITE_FULL = (13, 10)  # SQLITE_FULL, SQLITE_IOERR (a write the OS refused)


@functools.cache
def tables(sa: Any) -> SimpleNamespace:
    """The registry's tables, built once per process."""
    md = sa.MetaData()
    t = SimpleNamespace(metadata=md)
    t.meta = sa.Table(
        _PREFIX + "meta",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("next_seq", sa.BigInteger, nullable=False),
        sa.Column("head", sa.String(64), nullable=False),
    )
    t.versions = sa.Table(
        _PREFIX + "versions",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("manifest", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.UniqueConstraint("name", "version", name=_PREFIX + "versions_name_version"),
    )
    t.parents = sa.Table(
        _PREFIX + "parents",
        md,
        sa.Column("child", sa.String(64), nullable=False),
        sa.Column("parent_name", sa.String(200), nullable=False),
        sa.Column("parent_version", sa.Integer, nullable=False),
        sa.Index(_PREFIX + "parents_parent", "parent_name", "parent_version"),
    )
    t.inputs = sa.Table(
        _PREFIX + "inputs",
        md,
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("role", sa.String(200), nullable=False),
        sa.Column("dataset", sa.String(400), nullable=False),
        sa.Index(_PREFIX + "inputs_dataset", "dataset"),
    )
    t.aliases = sa.Table(
        _PREFIX + "aliases",
        md,
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("alias", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    t.history = sa.Table(
        _PREFIX + "alias_history",
        md,
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("alias", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("previous", sa.Integer, nullable=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("actor", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("verdicts", sa.Text, nullable=False),
        sa.Index(_PREFIX + "alias_history_at", "name", "alias", "ts", "seq"),
    )
    # Where each version's registration event sits, and whether the version was
    # archived or deleted. The seq is only a locator: load() checks the event
    # it finds against the version, so a wrong one is refused, never trusted.
    t.lifecycle = sa.Table(
        _PREFIX + "lifecycle",
        md,
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("registered_seq", sa.BigInteger, nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("changed_seq", sa.BigInteger, nullable=True),
    )
    t.events = sa.Table(
        _PREFIX + "events",
        md,
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("line", sa.Text, nullable=False),
    )
    return t


@dataclass
class Writer:
    """Appends sealed events inside one write transaction."""

    conn: Any
    events: Any
    seq: int
    prev: str
    last_ts: float = 0.0
    key: bytes | None = None

    def moment(self, now: float) -> float:
        """``now``, or one microsecond after the last event if the clock reads earlier.

        Writers on hosts whose clocks disagree, or a clock stepped back, would
        otherwise date a later event before an earlier one, and ``resolve(at=)``
        would answer with a version the log had already replaced. Distinct
        moments also let every reported time resolve to its own event.
        """
        return max(now, round(self.last_ts + 1e-6, 6)) if self.seq else now

    def event(self, record: Mapping[str, Any], *, ts: float) -> int:
        """Seal ``record`` onto the chain (with its MAC when keyed); return its sequence number."""
        if self.key is not None:
            record = sign(self.key, record, seq=self.seq, ts=ts, prev=self.prev)
        line = seal(record, seq=self.seq, prev=self.prev, ts=ts)
        self.conn.execute(self.events.insert().values(seq=self.seq, line=line.decode("utf-8")))
        self.prev = line_hash(line)
        self.last_ts = max(self.last_ts, ts)
        self.seq += 1
        return self.seq - 1


def _hide_password(sa: Any, url: str) -> str:
    try:
        return str(sa.engine.make_url(url).render_as_string(hide_password=True))
    except (sa.exc.ArgumentError, ValueError):
        return "(an unreadable URL)"


class SqlMetadata:
    """An engine on the registry's database, with read and write transactions."""

    def __init__(self, url: str, *, create: bool = True, key: bytes | None = None) -> None:
        from mlprod._internal.lazy import optional_import

        self.key = key
        sa = optional_import("sqlalchemy", feature="ModelRegistry", extra="all")
        self.sa = sa
        try:
            parsed = sa.engine.make_url(url)
            backend, plus, driver = parsed.drivername.partition("+")
            if backend == "postgres":
                # The scheme Heroku and many tools print; SQLAlchemy knows only postgresql.
                parsed = parsed.set(drivername=f"postgresql{plus}{driver}")
            self.dialect = parsed.get_backend_name()
            self.sqlite = self.dialect == "sqlite"
            if self.dialect == "postgresql" and parsed.get_driver_name() == "psycopg":
                optional_import("psycopg", feature="a PostgreSQL registry", extra="postgres")
            kwargs: dict[str, Any] = {}
            if self.sqlite:
                kwargs["connect_args"] = {"timeout": 60.0, "check_same_thread": False}
            else:
                kwargs["pool_pre_ping"] = True
            self.engine = sa.create_engine(parsed, **kwargs)
        except (sa.exc.ArgumentError, ValueError, ImportError) as exc:
            if isinstance(exc, MissingDependency):
                raise
            shown = _hide_password(sa, url)
            raise ConfigurationError(
                f"Cannot open the registry database {shown}: {exc}. Check the URL's scheme and "
                "install its driver; for PostgreSQL use postgresql+psycopg://user@host/db "
                "(pip install 'mlprod[postgres]').",
                parameter="location",
                value=shown,
            ) from None
        self.t = tables(sa)
        if self.sqlite:
            self._install_sqlite_hooks()
        self._ensure_schema(create=create)

    # -- SQLite specifics ------------------------------------------------------------------

    def _install_sqlite_hooks(self) -> None:
        sa = self.sa

        @sa.event.listens_for(self.engine, "connect")  # type: ignore[untyped-decorator]
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            # Own the transaction boundaries so writes can say BEGIN IMMEDIATE:
            # taking the write lock up front is what keeps concurrent writers
            # from failing with "database is locked" on lock upgrade.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout = 60000")
            for attempt in range(200):
                try:
                    cur.execute("PRAGMA journal_mode = WAL")
                    break
                except sqlite3.OperationalError:  # locked by another first opener
                    if attempt == 199:
                        raise
                    time.sleep(0.01)
            cur.execute("PRAGMA synchronous = FULL")
            cur.close()

        @sa.event.listens_for(self.engine, "begin")  # type: ignore[untyped-decorator]
        def _begin(conn: Any) -> None:
            write = conn.get_execution_options().get("mlprod_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    # -- schema ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _damage_reported(self) -> Iterator[None]:
        """Turn a damaged file, a full disk or an unreachable server into an error saying
        what to do."""
        try:
            yield
        except self.sa.exc.DatabaseError as exc:
            code = getattr(exc.orig, "sqlite_errorcode", None)
            shown = self.engine.url.render_as_string(hide_password=True)
            if code is not None and code & 0xFF in _SQLITE_FULL:
                path = str(self.engine.url.database)
                raise StorageError(
                    f"Cannot write the registry database {path}: {exc.orig}. The disk (or a "
                    "file size limit) is full; nothing was committed. Free space and retry.",
                    path=path,
                    operation="write registry database",
                    reason=str(exc.orig),
                ) from exc
            # A server's own errors carry an SQLSTATE (a serialization failure is an
            # OperationalError too); failing to connect at all carries none.
            sqlstate = getattr(exc.orig, "sqlstate", None)
            if code is None and sqlstate is None and isinstance(exc, self.sa.exc.OperationalError):
                raise DatabaseUnavailable(
                    f"Cannot reach the registry database {shown}: "
                    f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}. Check that "
                    "the server is running and that host, port, user and password are right.",
                    url=shown,
                    reason=str(exc.orig),
                ) from None
            if code is None or code & 0xFF not in _SQLITE_DAMAGED:
                raise
            path = str(self.engine.url.database)
            raise IntegrityError(
                f"The registry database {path} is damaged (SQLite: {exc.orig}), so none of "
                "its records can be trusted. Restore it from a backup; the artifacts are "
                "stored apart, and reg.verify() on the restored copy checks them.",
                path=path,
            ) from exc

    def _ensure_schema(self, *, create: bool) -> None:
        with self._damage_reported():
            self._open_schema(create=create)

    def _open_schema(self, *, create: bool) -> None:
        sa, t = self.sa, self.t
        with self.engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
        if not (t.meta.name in names and t.events.name in names):
            self._create(create=create)
        elif t.lifecycle.name not in names:
            self._create(create=True)  # a registry from before the lifecycle table
        with self.read() as conn:
            found = conn.execute(
                sa.select(t.meta.c.schema_version).where(t.meta.c.id == 1)
            ).scalar()
        if found is not None and int(found) > _SCHEMA_VERSION:
            shown = self.engine.url.render_as_string(hide_password=True)
            raise ConfigurationError(
                f"The registry at {shown} has schema version {found}, written by a newer "
                f"mlprod; this one reads version {_SCHEMA_VERSION}. Upgrade mlprod to open it.",
                parameter="schema_version",
                value=int(found),
            )

    def _create(self, *, create: bool) -> None:
        sa, t = self.sa, self.t
        if not create:
            shown = self.engine.url.render_as_string(hide_password=True)
            raise ConfigurationError(
                f"No model registry at {shown}: its tables do not exist. Open it with "
                "create=True to make one.",
                parameter="location",
                value=shown,
            )
        with self._connect(write=True) as conn, conn.begin():
            if self.dialect.startswith("postgres"):
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            t.metadata.create_all(conn, checkfirst=True)
            row = conn.execute(sa.select(t.meta.c.id).where(t.meta.c.id == 1)).first()
            if row is None:
                conn.execute(
                    t.meta.insert().values(
                        id=1, schema_version=_SCHEMA_VERSION, next_seq=0, head=GENESIS
                    )
                )

    # -- transactions ----------------------------------------------------------------------

    def _connect(self, *, write: bool = False) -> Any:
        conn = self.engine.connect()
        if write:
            conn.execution_options(mlprod_write=True)
        return conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Any]:
        """A connection in a read transaction that sees one consistent snapshot."""
        with self._damage_reported(), self.engine.connect() as conn:
            if not self.sqlite:
                # READ COMMITTED (PostgreSQL's default) lets each statement see new
                # commits, so verify() would compare a log and tables of different
                # moments. A read-only REPEATABLE READ transaction never fails.
                conn.execution_options(isolation_level="REPEATABLE READ")
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[Writer]:
        """One write transaction holding the registry lock; commits on success."""
        t = self.t
        with self._damage_reported(), self._connect(write=True) as conn, conn.begin():
            head = conn.execute(
                self.sa.select(t.meta.c.next_seq, t.meta.c.head)
                .where(t.meta.c.id == 1)
                .with_for_update()
            ).one()
            writer = Writer(conn, t.events, int(head.next_seq), str(head.head), key=self.key)
            if writer.seq:
                last = conn.execute(
                    self.sa.select(t.events.c.line).where(t.events.c.seq == writer.seq - 1)
                ).scalar()
                # An unreadable last event is verify()'s to report; writing goes on.
                with contextlib.suppress(TypeError, ValueError, KeyError):
                    writer.last_ts = float(json.loads(last)["ts"])
            yield writer
            if writer.seq != head.next_seq:
                conn.execute(
                    t.meta.update()
                    .where(t.meta.c.id == 1)
                    .values(next_seq=writer.seq, head=writer.prev)
                )

    def head(self) -> tuple[int, str]:
        """(number of events, hash of the last one) as pinned in the database."""
        t = self.t
        with self.read() as conn:
            row = conn.execute(
                self.sa.select(t.meta.c.next_seq, t.meta.c.head).where(t.meta.c.id == 1)
            ).one()
        return int(row.next_seq), str(row.head)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

"""Reading a query's rows into polars through Arrow (connectorx), without a Python object per row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy.engine import Connection

__all__ = ["read_arrow"]


def _arrow_url(conn: Connection) -> str | None:
    """The database as connectorx names it, or None where it cannot read it (in-memory SQLite)."""
    url = conn.engine.url
    if url.get_backend_name() == "sqlite":
        return f"sqlite://{url.database}" if url.database and url.database != ":memory:" else None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


# Run in a child process for SQLite: connectorx carries its own copy of the SQLite library, and two
# copies in one process release each other's POSIX locks (SQLite's "how to corrupt" §2.2.1; tried:
# the process's own connections then fail with "disk I/O error").
_CHILD = """
import sys, connectorx, pyarrow as pa
table = connectorx.read_sql(sys.argv[1], sys.stdin.read(), return_type="arrow")
with pa.OSFile(sys.argv[2], "wb") as sink, pa.ipc.new_file(sink, table.schema) as out:
    out.write_table(table)
"""


def read_arrow(conn: Connection, sql: str, schema: Mapping[str, Any], *, bulk: bool = True) -> pl.DataFrame:
    """Run `sql` into a polars frame with the columns of `schema`, named by position (their types as
    read; the caller casts).

    With `bulk`, through connectorx straight into Arrow (PostgreSQL in this process, SQLite in a
    child process); otherwise, or where connectorx is not installed or cannot reach the database
    (in-memory SQLite), through the connection's own cursor. On SQLite connectorx takes an
    expression's type from its first value and fails on a NULL there: such columns must not be NULL."""
    import polars as pl

    url = _arrow_url(conn) if bulk else None
    if url is not None:
        try:
            import connectorx
        except ImportError:
            url = None
    if url is not None and conn.dialect.name == "postgresql":
        table = connectorx.read_sql(url, sql, return_type="arrow")
        return pl.from_arrow(table).rename(dict(zip(table.column_names, schema)))  # type: ignore[union-attr]
    if url is not None:
        import subprocess
        import sys
        import tempfile

        with tempfile.TemporaryDirectory(prefix="monitor-read-") as folder:
            path = f"{folder}/frame.arrow"
            done = subprocess.run([sys.executable, "-c", _CHILD, url, path], input=sql, text=True,
                                  capture_output=True)
            if done.returncode != 0:
                lines = done.stderr.strip().splitlines() or ["no output"]
                raise RuntimeError(f"reading {conn.engine.url.database} through connectorx failed: {lines[-1]}")
            frame = pl.read_ipc(path)
        return frame.rename(dict(zip(frame.columns, schema)))
    rows = conn.exec_driver_sql(sql).all()
    if not rows:
        return pl.DataFrame(schema=dict(schema))
    # The first row's Python types, where the driver gives text for a typed column (SQLite's stamps).
    types = {k: (pl.Utf8 if isinstance(value, str) else v) for (k, v), value in zip(schema.items(), rows[0])}
    return pl.DataFrame(rows, schema=types, orient="row")

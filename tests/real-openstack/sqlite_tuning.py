"""sqlite for services that take concurrent requests (the trap: a deferred BEGIN that later needs
the write lock fails at once with "database is locked", whatever the busy timeout):

- WAL (readers never block the writer) and a 60 s busy timeout on every connection;
- oslo.db writer transactions begin with BEGIN IMMEDIATE (they take the write lock first, so they
  wait their turn instead of failing), readers with a plain BEGIN: Placement opens an independent
  reader inside a writer on the same thread, which an IMMEDIATE for everything would deadlock.
  oslo.db emits the BEGIN itself (its connections run with pysqlite's isolation_level None); the
  statement is rewritten on its way to the cursor, by the mode of the innermost block's transaction.
"""

import sqlite3
import threading

from sqlalchemy import event
from sqlalchemy.engine import Engine

_blocks = threading.local()


def _writing():
    stack = getattr(_blocks, "stack", None)
    return bool(stack) and stack[-1]


class _Tracked:
    def __init__(self, inner, writer):
        self.inner, self.writer = inner, writer

    def __enter__(self):
        _blocks.__dict__.setdefault("stack", []).append(self.writer)
        return self.inner.__enter__()

    def __exit__(self, *exc):
        try:
            return self.inner.__exit__(*exc)
        finally:
            _blocks.stack.pop()


def install():
    @event.listens_for(Engine, "connect")
    def _tune(dbapi_connection, _record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA busy_timeout=60000")

    @event.listens_for(Engine, "before_cursor_execute", retval=True)
    def _immediate(conn, _cursor, statement, parameters, _context, _many):
        if statement == "BEGIN" and conn.dialect.name == "sqlite" and _writing():
            statement = "BEGIN IMMEDIATE"
        return statement, parameters

    try:
        from oslo_db.sqlalchemy import enginefacade
    except ImportError:
        return
    produce = enginefacade._TransactionContext._produce_block

    def _produce_block(self, mode, *args, **kwargs):
        block = produce(self, mode, *args, **kwargs)
        # The transaction's mode, not the block's: a reader nested in a writer shares the writer's
        # session, whose BEGIN may come first inside the nested block.
        return _Tracked(block, self.mode is enginefacade._WRITER)

    enginefacade._TransactionContext._produce_block = _produce_block

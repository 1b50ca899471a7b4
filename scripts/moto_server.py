"""Serves moto's DynamoDB on 127.0.0.1, single-threaded.

moto's default threaded server is not transaction-safe: under concurrent TransactWriteItems two
transactions can both succeed and a cancelled one can leave partial writes (its log shows
"RuntimeError: dictionary changed size during iteration"). One request at a time makes every
transaction atomic, which is what the name-uniqueness tests rely on.

moto's TransactWriteItems deep-copies every table a transaction touches, before it starts, to
roll back on a cancellation: each transaction costs time and garbage in proportion to the whole
table (10,000 items: tens of milliseconds, and a resident size that grew to 24 GB over a day of
probes). `snapshot_only_written_items` replaces that with a copy of the items the transaction
names, restored on any failure: the same atomicity, at a cost that does not grow with the table.
MOTO_FULL_TABLE_COPY=1 keeps moto's own behaviour (make bench compares the two).

Usage: moto_server.py [PORT]   (0 or no port: pick a free one). Prints the endpoint URL on the
first line of stdout once it is listening.
"""

import copy
import os
import socket
import sys

from moto.dynamodb import models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


class _NoTableCopies:
    """`copy` for moto's models module: while a transaction runs, a Table is not copied."""

    active = False

    def __getattr__(self, name):
        return getattr(copy, name)

    def deepcopy(self, obj, memo=None):
        if self.active and isinstance(obj, Table):
            return obj
        return copy.deepcopy(obj, memo)


def _snapshot(backend, transact_items):
    """The current version of every item the transaction names: (table, hash, range, copy or None)."""
    saved = []
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName", ""))
            attrs = op.get("Item") if op_type == "Put" else op.get("Key")
            if table is None or not isinstance(attrs, dict):
                continue
            try:
                hash_key = DynamoType(attrs[table.hash_key_attr])
                range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
            except (KeyError, TypeError):
                continue  # moto's own validation refuses it before writing anything
            saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    return saved


def _restore(saved):
    for table, hash_key, range_key, item in reversed(saved):
        if item is None:
            table.delete_item(hash_key, range_key)
        elif range_key is not None:
            table.items[hash_key][range_key] = item
        else:
            table.items[hash_key] = item


def snapshot_only_written_items():
    shim = _NoTableCopies()
    models.copy = shim
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        saved = _snapshot(self, transact_items)
        shim.active = True
        try:
            return original(self, transact_items)
        except BaseException:
            # moto's own rollback put back the (uncopied) tables: put back the items instead.
            _restore(saved)
            raise
        finally:
            shim.active = False

    models.DynamoDBBackend.transact_write_items = transact_write_items


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", port, app, threaded=False, processes=1)
    host, bound = server.socket.getsockname()[:2]
    print(f"http://{host}:{bound}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    socket.setdefaulttimeout(None)
    if os.environ.get("MOTO_FULL_TABLE_COPY") != "1":
        snapshot_only_written_items()
    main()

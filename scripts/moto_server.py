"""Serves moto's DynamoDB on 127.0.0.1, single-threaded.

moto's default threaded server is not transaction-safe: under concurrent TransactWriteItems two
transactions can both succeed and a cancelled one can leave partial writes (its log shows
"RuntimeError: dictionary changed size during iteration"). One request at a time makes every
transaction atomic, which is what the name-uniqueness tests rely on.

Usage: moto_server.py [PORT]   (0 or no port: pick a free one). Prints the endpoint URL on the
first line of stdout once it is listening.
"""

import socket
import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


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
    main()

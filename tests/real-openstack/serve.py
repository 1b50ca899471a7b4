"""Serves one real OpenStack service's WSGI application with waitress on a loopback port.

Usage: serve.py SERVICE PORT CONFIG_DIR   (SERVICE: keystone, placement, glance, neutron, nova)

Each service runs in its own process (Keystone and Nova share oslo.config's global CONF and parse
sys.argv at import). sqlite is made to hold under concurrent requests first (sqlite_tuning), and
Nova runs its conductor, scheduler and compute (fake driver) in this same process, on oslo.messaging's
in-memory transport, before its API is served.
"""

import os
import sys

SERVICE, PORT, CONF_DIR = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.argv = [sys.argv[0]]

if SERVICE == "nova":
    # Nova's native-threading mode, chosen before anything imports oslo.messaging.
    os.environ["OS_NOVA_DISABLE_EVENTLET_PATCHING"] = "true"
    import nova.monkey_patch

    nova.monkey_patch.patch(backend="threading")

import sqlite_tuning  # noqa: E402

sqlite_tuning.install()

import waitress  # noqa: E402


def application():
    if SERVICE == "keystone":
        os.environ["OS_KEYSTONE_CONFIG_FILES"] = os.path.join(CONF_DIR, "keystone.conf")
        from keystone.wsgi.api import application as app

        return app
    if SERVICE == "placement":
        os.environ["OS_PLACEMENT_CONFIG_DIR"] = CONF_DIR
        from placement.wsgi.api import application as app

        return app
    if SERVICE == "glance":
        os.environ["OS_GLANCE_CONFIG_DIR"] = CONF_DIR
        from glance.wsgi.api import application as app

        return app
    if SERVICE == "neutron":
        os.environ["OS_NEUTRON_CONFIG_DIR"] = CONF_DIR
        os.environ["OS_NEUTRON_CONFIG_FILES"] = "neutron.conf;ml2_conf.ini"
        from neutron.wsgi.api import application as app

        return app
    if SERVICE == "nova":
        import nova_in_one

        return nova_in_one.application(CONF_DIR)
    raise SystemExit(f"unknown service {SERVICE}")


if __name__ == "__main__":
    app = application()
    print(f"{SERVICE} serving on 127.0.0.1:{PORT}", flush=True)
    waitress.serve(app, host="127.0.0.1", port=PORT, threads=16, _quiet=True)

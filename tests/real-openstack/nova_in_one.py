"""Nova in one process, without a message broker: the API application plus conductor, scheduler
and compute (fake virt driver) as in-process services on oslo.messaging's `fake://` transport
(which only works when every Nova service lives in the same process)."""

import os
import threading
import time


def application(conf_dir):
    os.environ["OS_NOVA_CONFIG_DIR"] = conf_dir
    from nova.api.openstack import wsgi_app

    app = wsgi_app.init_application("osapi_compute", "nova-api")

    from nova import context, objects, service

    services = []
    for binary in ("nova-conductor", "nova-scheduler", "nova-compute"):
        server = service.Service.create(binary=binary)
        server.start()
        services.append(server)
    # The compute host reports itself to Placement on start; map it to its cell once it has.
    ctxt = context.get_admin_context()
    for _ in range(60):
        if objects.host_mapping.discover_hosts(ctxt, by_service=True) or _mapped(ctxt, objects):
            break
        time.sleep(0.5)
    # Keep the services referenced for the life of the process.
    threading.Thread(target=lambda: [s.wait() for s in services], daemon=True).start()
    return app


def _mapped(ctxt, objects):
    try:
        return len(objects.HostMappingList.get_all(ctxt)) > 0
    except Exception:  # noqa: BLE001 - not yet there
        return False

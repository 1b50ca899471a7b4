"""Nova in one process, without a message broker: the API application plus conductor, scheduler
and compute (fake virt driver) as in-process services on oslo.messaging's `fake://` transport
(which only works when every Nova service lives in the same process)."""

import os
import threading
import time


def _snapshots_upload():
    """The fake driver's snapshot uploads no data, so its image stays `queued` in Glance: upload a
    few bytes, as a real driver uploads the disk, and the image goes active."""
    import io

    from nova.image import glance
    from nova.virt import fake

    plain = fake.FakeDriver.snapshot

    def snapshot(self, context, instance, image_id, update_task_state):
        plain(self, context, instance, image_id, update_task_state)
        meta = {"disk_format": "raw", "container_format": "bare"}
        glance.API().update(context, image_id, meta, data=io.BytesIO(b"\0" * 4096))

    fake.FakeDriver.snapshot = snapshot


def application(conf_dir):
    os.environ["OS_NOVA_CONFIG_DIR"] = conf_dir
    from nova.api.openstack import wsgi_app

    _snapshots_upload()

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

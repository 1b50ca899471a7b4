"""Drives the OpenStack emulator with the official OpenStack SDK (a client nobody here wrote).

Usage: check_emulator.py AUTH_URL APP_CRED_ID APP_CRED_SECRET IMAGE_ID FLAVOR_ID
Exits non-zero, naming the step, on the first disagreement.
"""

import sys

import openstack


def step(name):
    print(f"openstacksdk: {name}", flush=True)


def main():
    auth_url, cred_id, secret, image_id, flavor_id = sys.argv[1:6]
    conn = openstack.connect(
        auth_type="v3applicationcredential",
        auth={"auth_url": auth_url, "application_credential_id": cred_id, "application_credential_secret": secret},
        region_name="RegionOne",
        compute_api_version="2",
        image_api_version="2",
    )
    step("authenticate")
    conn.authorize()

    step("list flavors")
    flavors = {f.id: f for f in conn.compute.flavors()}
    assert flavor_id in flavors, f"flavor {flavor_id} missing from {sorted(flavors)}"
    assert flavors[flavor_id].disk > 0

    step("list images")
    images = {i.id: i for i in conn.image.images()}
    assert image_id in images, f"image {image_id} missing from {sorted(images)}"
    assert images[image_id].status == "active"
    step("show image")
    assert conn.image.get_image(image_id).name == images[image_id].name

    step("create server")
    server = conn.compute.create_server(
        name="sdk-check", image_id=image_id, flavor_id=flavor_id,
        networks=[{"uuid": "4f1c7d2e-0b9a-4c3d-8e7f-6a5b4c3d2e1f"}], metadata={"purpose": "fidelity"},
    )
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30, interval=0.1)
    assert server.metadata.get("purpose") == "fidelity", server.metadata

    step("list servers")
    assert server.id in [s.id for s in conn.compute.servers()]
    step("show server")
    assert conn.compute.get_server(server.id).name == "sdk-check"

    step("stop server")
    conn.compute.stop_server(server)
    conn.compute.wait_for_server(server, status="SHUTOFF", wait=30, interval=0.1)
    step("start server")
    conn.compute.start_server(server)
    conn.compute.wait_for_server(server, status="ACTIVE", wait=30, interval=0.1)
    step("reboot server (SOFT)")
    conn.compute.reboot_server(server, "SOFT")
    conn.compute.wait_for_server(server, status="ACTIVE", wait=30, interval=0.1)
    step("reboot server (HARD)")
    conn.compute.reboot_server(server, "HARD")
    conn.compute.wait_for_server(server, status="ACTIVE", wait=30, interval=0.1)

    step("start an ACTIVE server is a conflict")
    try:
        conn.compute.start_server(server)
    except openstack.exceptions.ConflictException as e:
        assert "vm_state active" in str(e), str(e)
    else:
        raise AssertionError("os-start on an ACTIVE server did not raise ConflictException")

    step("delete server")
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=30, interval=0.1)

    step("show deleted server is NotFound")
    try:
        conn.compute.get_server(server.id)
    except openstack.exceptions.NotFoundException:
        pass
    else:
        raise AssertionError("a deleted server is still shown")
    print("openstacksdk: all steps passed", flush=True)


if __name__ == "__main__":
    main()

"""Drives the OpenStack emulator with the official OpenStack SDK (a client nobody here wrote).

Usage: check_emulator.py AUTH_URL APP_CRED_ID APP_CRED_SECRET IMAGE_ID FLAVOR_ID
Exits non-zero, naming the step, on the first disagreement.
"""

import sys

import openstack

TENANT_NETWORK = "4f1c7d2e-0b9a-4c3d-8e7f-6a5b4c3d2e1f"
EXTERNAL_NETWORK = "9a0e5b1c-3d2f-4e6a-8b7c-1d0e2f3a4b5c"
EXTERNAL_NETWORK_LEGACY = "b3c4d5e6-7f80-4a1b-9c2d-3e4f5a6b7c8d"


def step(name):
    print(f"openstacksdk: {name}", flush=True)


def gone(show, resource_id, complaint):
    """`show` of a deleted resource must raise NotFound."""
    try:
        show(resource_id)
    except openstack.exceptions.NotFoundException:
        return
    raise AssertionError(complaint)


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

    step("find the tenant and external networks")
    tenant = conn.network.get_network(TENANT_NETWORK)
    assert not tenant.is_router_external, tenant
    external = list(conn.network.networks(is_router_external=True))
    assert [n.id for n in external] == [EXTERNAL_NETWORK, EXTERNAL_NETWORK_LEGACY], [n.id for n in external]
    tagged = list(conn.network.networks(is_router_external=True, tags="legacy"))
    assert [n.id for n in tagged] == [EXTERNAL_NETWORK_LEGACY], [n.id for n in tagged]

    step("list security groups")
    groups = {g.name: g for g in conn.network.security_groups()}
    assert "default" in groups and "web" in groups, sorted(groups)

    step("create port")
    port = conn.network.create_port(
        network_id=TENANT_NETWORK, name="sdk-check", security_group_ids=[groups["web"].id],
        allowed_address_pairs=[{"ip_address": "10.9.0.0/16"}],
    )
    assert port.fixed_ips and port.fixed_ips[0]["ip_address"], port
    assert port.security_group_ids == [groups["web"].id], port.security_group_ids
    assert port.allowed_address_pairs[0]["ip_address"] == "10.9.0.0/16", port.allowed_address_pairs
    assert port.allowed_address_pairs[0]["mac_address"] == port.mac_address, port.allowed_address_pairs
    step("find port by name")
    assert [p.id for p in conn.network.ports(name="sdk-check")] == [port.id]
    step("update port")
    port = conn.network.update_port(port, security_group_ids=[groups["default"].id], allowed_address_pairs=[])
    assert port.security_group_ids == [groups["default"].id] and port.allowed_address_pairs == [], port
    step("a missing security group is NotFound")
    try:
        conn.network.create_port(network_id=TENANT_NETWORK, security_group_ids=["no-such-group"])
    except openstack.exceptions.NotFoundException as e:
        assert "no-such-group" in str(e), str(e)
    else:
        raise AssertionError("a port with a missing security group was created")

    step("create server on the port")
    server = conn.compute.create_server(
        name="sdk-check", image_id=image_id, flavor_id=flavor_id,
        networks=[{"port": port.id}], metadata={"purpose": "fidelity"},
    )
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30, interval=0.1)
    assert server.metadata.get("purpose") == "fidelity", server.metadata
    assert conn.network.get_port(port.id).device_id == server.id

    step("floating IP on the port")
    fip = conn.network.create_ip(floating_network_id=EXTERNAL_NETWORK, port_id=port.id)
    assert fip.fixed_ip_address == port.fixed_ips[0]["ip_address"], fip
    assert [f.id for f in conn.network.ips(port_id=port.id)] == [fip.id]
    addresses = conn.compute.get_server(server.id).addresses["tenant"]
    kinds = sorted((a["OS-EXT-IPS:type"], a["addr"]) for a in addresses)
    assert kinds == [("fixed", port.fixed_ips[0]["ip_address"]), ("floating", fip.floating_ip_address)], kinds
    step("release the floating IP")
    conn.network.delete_ip(fip)
    assert list(conn.network.ips(port_id=port.id)) == []

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
    gone(conn.compute.get_server, server.id, "a deleted server is still shown")
    step("the port outlives the server, unbound; then it is deleted")
    assert conn.network.get_port(port.id).device_id == ""
    conn.network.delete_port(port)
    gone(conn.network.get_port, port.id, "a deleted port is still shown")
    print("openstacksdk: all steps passed", flush=True)


if __name__ == "__main__":
    main()

"""Writes events/*.json: one API Gateway HTTP API (payload 2.0) event per route, as the gateway
sends it after the authorizer ran, for `sam local invoke <Function> -e events/<file>.json`.

The ids are fixed so the events work in sequence against the demo stack (see docs/running-locally.md); the
authorizer context grants the demo organization everything. events/authorizer/request.json is the
authorizer's own event (a bearer token of the demo stack's identity emulator: `make token`).
Run: python3 scripts/make_events.py   (tests/integration/tests/events.rs runs every event).
"""

import json
import pathlib

ORG = "3f1e8a52-6c1d-4a7e-9b0f-2d5c8e9a1b01"
PROJECT = "7c2d9e41-5b8a-4f3c-a1d6-0e9f8b7a6c02"
REGION = "demo-region"
NETWORK = "5b8d2c1e-3f4a-4e6b-9c7d-00000000a001"
SERVER = "5b8d2c1e-3f4a-4e6b-9c7d-00000000b001"
SSH_CA = "5b8d2c1e-3f4a-4e6b-9c7d-00000000c001"
SECURITY_GROUP = "5b8d2c1e-3f4a-4e6b-9c7d-00000000e001"
CA_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl demo-user-ca"
IMAGE = "1bea47ed-f6a9-463b-b423-14b9cca9ad27"
FLAVOR = "2"
# The token events/authorizer/request.json carries: register it with the identity emulator
# (`make token` prints others) or replace it with one your identity issued.
DEMO_TOKEN = "uat-demo-authorizer-event-token"
# The delete event's image: the snapshot events/servers-snapshot.json makes (its id is Glance's,
# so the events test puts it in place of this one; against a stack, put a snapshot's id here).
SNAPSHOT_IMAGE = "5b8d2c1e-3f4a-4e6b-9c7d-00000000d001"
ALL = ["create", "read", "update", "delete"]
ACL = {"organizations": [{"id": ORG, "endpoints": [
    {"name": "region:servers", "operations": ALL},
    {"name": "region:networks:v2", "operations": ALL},
    {"name": "region:networks:v2/references", "operations": ALL},
    {"name": "region:images", "operations": ["create", "read", "delete"]},
    {"name": "region:sshcertificateauthorities:v2", "operations": ALL},
    {"name": "region:securitygroups:v2", "operations": ALL},
    {"name": "region:securitygroups", "operations": ALL},
    {"name": "region:regions", "operations": ["read"]},
    {"name": "region:regions/detail", "operations": ["read"]},
    {"name": "region:flavors", "operations": ["read"]},
    {"name": "region:externalnetworks", "operations": ["read"]},
]}]}
V1_REGION = "/api/v1/organizations/{organizationID}/regions/{regionID}"
IN_REGION = {"organizationID": ORG, "regionID": REGION}

EVENTS = [
    # file, function, method, route path, path parameters, query, body
    ("networks-create", "networks", "POST", "/api/v2/networks", {}, "", {
        "metadata": {"name": "demo-network"},
        "spec": {"organizationId": ORG, "projectId": PROJECT, "regionId": REGION,
                 "providerNetworkId": "4f1c7d2e-0b9a-4c3d-8e7f-6a5b4c3d2e1f"}}),
    ("networks-get", "networks", "GET", "/api/v2/networks/{networkID}", {"networkID": NETWORK}, "", None),
    ("networks-list", "networks", "GET", "/api/v2/networks", {}, f"organizationID={ORG}&regionID={REGION}", None),
    ("networks-update", "networks", "PUT", "/api/v2/networks/{networkID}", {"networkID": NETWORK}, "", {
        "metadata": {"name": "demo-network", "description": "updated from events/"},
        "spec": {"dnsNameservers": []}}),
    ("networks-reference-add", "networks", "PUT", "/api/v2/networks/{networkID}/references/{reference}",
     {"networkID": NETWORK, "reference": "computeinstances.compute.unikorn-cloud.org%2Fevents"}, "", None),
    ("networks-reference-remove", "networks", "DELETE", "/api/v2/networks/{networkID}/references/{reference}",
     {"networkID": NETWORK, "reference": "computeinstances.compute.unikorn-cloud.org%2Fevents"}, "", None),
    ("servers-create", "create", "POST", "/api/v2/servers", {}, "", {
        "metadata": {"name": "web-1", "description": "created from events/"},
        "spec": {"networkId": NETWORK, "flavorId": FLAVOR, "imageId": IMAGE,
                 "networking": {"allowedSourceAddresses": ["192.0.2.0/24"]}}}),
    ("servers-get", "get", "GET", "/api/v2/servers/{serverID}", {"serverID": SERVER}, "", None),
    ("servers-list", "list", "GET", "/api/v2/servers", {}, f"networkID={NETWORK}&limit=10", None),
    ("servers-update", "update", "PUT", "/api/v2/servers/{serverID}", {"serverID": SERVER}, "", {
        "metadata": {"name": "web-1", "description": "updated from events/"},
        "spec": {"flavorId": FLAVOR, "imageId": IMAGE}}),
    ("servers-stop", "power", "POST", "/api/v2/servers/{serverID}/stop", {"serverID": SERVER}, "", None),
    ("servers-start", "power", "POST", "/api/v2/servers/{serverID}/start", {"serverID": SERVER}, "", None),
    ("servers-softreboot", "power", "POST", "/api/v2/servers/{serverID}/softreboot", {"serverID": SERVER}, "", None),
    ("servers-hardreboot", "power", "POST", "/api/v2/servers/{serverID}/hardreboot", {"serverID": SERVER}, "", None),
    ("servers-consoleoutput", "console", "GET", "/api/v2/servers/{serverID}/consoleoutput", {"serverID": SERVER}, "length=20", None),
    ("servers-consolesessions", "console", "GET", "/api/v2/servers/{serverID}/consolesessions", {"serverID": SERVER}, "", None),
    ("servers-sshkey", "console", "GET", "/api/v2/servers/{serverID}/sshkey", {"serverID": SERVER}, "", None),
    ("servers-snapshot", "snapshot", "POST", "/api/v2/servers/{serverID}/snapshot", {"serverID": SERVER}, "", {
        "metadata": {"name": "web-1-snapshot"}}),
    ("servers-delete", "delete", "DELETE", "/api/v2/servers/{serverID}", {"serverID": SERVER}, "", None),
    ("sshcas-create", "sshcas", "POST", "/api/v2/sshcertificateauthorities", {}, "", {
        "metadata": {"name": "demo-user-ca"},
        "spec": {"organizationId": ORG, "projectId": PROJECT, "publicKey": CA_KEY}}),
    ("sshcas-get", "sshcas", "GET", "/api/v2/sshcertificateauthorities/{sshCertificateAuthorityID}",
     {"sshCertificateAuthorityID": SSH_CA}, "", None),
    ("sshcas-list", "sshcas", "GET", "/api/v2/sshcertificateauthorities", {}, f"projectID={PROJECT}", None),
    ("sshcas-delete", "sshcas", "DELETE", "/api/v2/sshcertificateauthorities/{sshCertificateAuthorityID}",
     {"sshCertificateAuthorityID": SSH_CA}, "", None),
    ("securitygroups-create", "securitygroups", "POST", "/api/v2/securitygroups", {}, "", {
        "metadata": {"name": "ssh"},
        "spec": {"networkId": NETWORK, "rules": [{"direction": "ingress", "protocol": "tcp", "port": 22}]}}),
    ("securitygroups-get", "securitygroups", "GET", "/api/v2/securitygroups/{securityGroupID}",
     {"securityGroupID": SECURITY_GROUP}, "", None),
    ("securitygroups-list", "securitygroups", "GET", "/api/v2/securitygroups", {}, f"networkID={NETWORK}", None),
    ("securitygroups-update", "securitygroups", "PUT", "/api/v2/securitygroups/{securityGroupID}",
     {"securityGroupID": SECURITY_GROUP}, "", {
        "metadata": {"name": "ssh", "description": "updated from events/"},
        "spec": {"rules": [{"direction": "ingress", "protocol": "tcp", "port": 22, "prefix": "192.0.2.0/24"}]}}),
    ("securitygroups-delete", "securitygroups", "DELETE", "/api/v2/securitygroups/{securityGroupID}",
     {"securityGroupID": SECURITY_GROUP}, "", None),
    ("networks-delete", "networks", "DELETE", "/api/v2/networks/{networkID}", {"networkID": NETWORK}, "", None),
    ("regions-list", "regions", "GET", "/api/v1/organizations/{organizationID}/regions", {"organizationID": ORG}, "", None),
    ("regions-detail", "regions", "GET", f"{V1_REGION}/detail", IN_REGION, "", None),
    ("regions-flavors", "regions", "GET", f"{V1_REGION}/flavors", IN_REGION, "", None),
    ("regions-images", "regions", "GET", f"{V1_REGION}/images", IN_REGION, "", None),
    ("regions-externalnetworks", "regions", "GET", f"{V1_REGION}/externalnetworks", IN_REGION, "", None),
    ("regions-images-v2", "regions", "GET", "/api/v2/regions/{regionID}/images", {"regionID": REGION},
     f"organizationID={ORG}&scope=owned", None),
    ("regions-images-delete", "regions", "DELETE", f"{V1_REGION}/images/{{imageID}}",
     {**IN_REGION, "imageID": SNAPSHOT_IMAGE}, "", None),
    ("version", "regions", "GET", "/api/version", {}, "", None),
]


def event(method, route, params, query, body):
    path = route
    for key, value in params.items():
        path = path.replace("{" + key + "}", value)
    headers = {"accept": "application/json", "host": "api.example.com", "user-agent": "sam-local-invoke"}
    if body is not None:
        headers["content-type"] = "application/json"
    out = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "example",
            "authorizer": {"lambda": {"sub": "demo-admin", "acl": json.dumps(ACL, separators=(",", ":")), "acctype": "user"}},
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.10",
                     "userAgent": "sam-local-invoke"},
            "requestId": f"events-{method.lower()}-{route.strip('/').replace('/', '-').replace('{', '').replace('}', '')}",
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": "25/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795608000000,
        },
        "isBase64Encoded": False,
    }
    if params:
        out["pathParameters"] = params
    if query:
        out["queryStringParameters"] = dict(kv.split("=", 1) for kv in query.split("&"))
    if body is not None:
        out["body"] = json.dumps(body)
    return out


def main():
    root = pathlib.Path(__file__).resolve().parent.parent / "events"
    root.mkdir(exist_ok=True)
    # order.json also lists hand-written events (v1, protection, actions): keep them where they are.
    order_file = root / "order.json"
    order = json.loads(order_file.read_text()) if order_file.exists() else []
    listed = {entry["file"] for entry in order}
    for name, function, method, route, params, query, body in EVENTS:
        (root / f"{name}.json").write_text(json.dumps(event(method, route, params, query, body), indent=2) + "\n")
        if f"{name}.json" not in listed:
            order.append({"file": f"{name}.json", "function": function})
    order_file.write_text(json.dumps(order, indent=2) + "\n")
    # What API Gateway sends the authorizer (REQUEST, payload 2.0) for one v2 request.
    request = event("GET", "/api/v2/servers", {}, "", None)
    del request["requestContext"]["authorizer"]
    request["headers"]["authorization"] = f"Bearer {DEMO_TOKEN}"
    request["type"] = "REQUEST"
    request["routeArn"] = "arn:aws:execute-api:eu-west-1:123456789012:example/$default/GET/api/v2/servers"
    request["identitySource"] = []
    (root / "authorizer").mkdir(exist_ok=True)
    (root / "authorizer" / "request.json").write_text(json.dumps(request, indent=2) + "\n")


if __name__ == "__main__":
    main()

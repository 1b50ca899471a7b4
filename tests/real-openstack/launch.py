"""Starts real Keystone, Placement, Glance, Neutron and Nova (fake virt driver) on free loopback
ports, on sqlite in a temporary directory, and sets up what the tests need:

- the service users and the catalog (identity, compute, placement, image, network);
- an external network (`public`, 172.24.4.0/24) and a shared tenant network (`private`);
- a project `region-demo` with a member user, its application credential, an image and flavors,
  with quotas raised for parallel suites; a project `region-quota` left at the default quota;
- two security groups (`web`, `ssh`) in the demo project.

Prints one JSON line (the environment: endpoints, ids, credentials) once everything answers,
writes it to `--env` if given, then waits; SIGTERM or SIGINT stops every process it started.

Usage: launch.py [--env FILE] [--work DIR]   (run with the tier's virtualenv)
The facts behind every setting: ../shared/reference/openstack/real-services.md.
"""

import argparse
import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.dirname(sys.executable)
ETC = os.path.join(os.path.dirname(BIN), "etc")
ADMIN_PASSWORD = "admin-secret"
SERVICE_PASSWORD = "service-secret"
DEMO_PASSWORD = "demo-secret"
SERVICES = ("nova", "placement", "glance", "neutron")
# What Unikorn's deployment installs beside OpenStack (python-unikorn-openstack-policy, its
# ADMIN.md): a project "manager" may set its project's quotas and make VLAN provider networks.
UNIKORN_NOVA_POLICY = """
"os_compute_api:os-quota-sets:update": "role:admin or role:manager"
"""
UNIKORN_NEUTRON_POLICY = """
"update_quota": "role:admin or role:manager"
"create_network:segments": "role:admin or role:manager"
"create_network:segments:provider:network_type": "role:admin or role:manager"
"create_network:segments:provider:physical_network": "role:admin or role:manager"
"create_network:segments:provider:segmentation_id": "role:admin or role:manager"
"""
children = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args, env=None):
    result = subprocess.run(args, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")


def start(service, port, conf_dir, work, extra_path=()):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, *extra_path]))
    log = open(os.path.join(work, f"{service}.log"), "w")
    child = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "serve.py"), service, str(port), conf_dir],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    children.append((service, child))
    return child


def wait_http(url, service, work, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for name, child in children:
            if child.poll() is not None:
                tail = open(os.path.join(work, f"{name}.log")).read()[-4000:]
                raise SystemExit(f"{name} exited ({child.returncode}):\n{tail}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit(f"{service} did not answer at {url} within {timeout} s")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def write_config(work, service, filename, text):
    """The service's config directory, with `filename` holding `text` after the log file setting."""
    conf = os.path.join(work, service)
    os.makedirs(conf, exist_ok=True)
    write(os.path.join(conf, filename), f"[DEFAULT]\nlog_file = {work}/{service}-service.log\n{text}")
    return conf


def sqlite(work, name):
    return f"sqlite:///{os.path.join(work, name + '.db')}"


def authtoken(keystone, user):
    """keystonemiddleware's section: the service user checking callers' tokens."""
    return service_auth("keystone_authtoken", keystone, user, extra=f"www_authenticate_uri = {keystone}/v3\n")


def service_auth(section, keystone, user="nova", extra=""):
    return f"""
[{section}]
auth_url = {keystone}/v3
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = {user}
password = {SERVICE_PASSWORD}
region_name = RegionOne
{extra}"""


class Keystone:
    """Keystone's admin API, as the bootstrap admin."""

    def __init__(self, url):
        self.url = url
        self.token = self._token({"password": {"user": {"name": "admin", "domain": {"id": "default"},
                                                        "password": ADMIN_PASSWORD}}},
                                 {"project": {"name": "admin", "domain": {"id": "default"}}})

    def _token(self, identity, scope):
        body = {"auth": {"identity": {"methods": list(identity), **identity}, "scope": scope}}
        r = requests.post(f"{self.url}/v3/auth/tokens", json=body, timeout=30)
        r.raise_for_status()
        return r.headers["X-Subject-Token"]

    def call(self, method, path, body=None, token=None, ok=(200, 201, 204)):
        r = requests.request(method, f"{self.url}{path}", json=body, timeout=30,
                             headers={"X-Auth-Token": token or self.token})
        if r.status_code not in ok:
            raise SystemExit(f"keystone {method} {path}: {r.status_code} {r.text[:500]}")
        return r.json() if r.content else {}

    def find(self, kind, name):
        found = self.call("GET", f"/v3/{kind}?name={name}")[kind]
        return found[0]["id"] if found else None

    def project(self, name):
        return self.find("projects", name) or self.call(
            "POST", "/v3/projects", {"project": {"name": name, "domain_id": "default"}})["project"]["id"]

    def user(self, name, password, project):
        return self.find("users", name) or self.call("POST", "/v3/users", {"user": {
            "name": name, "password": password, "domain_id": "default", "default_project_id": project}})["user"]["id"]

    def grant(self, project, user, role):
        role_id = self.find("roles", role) or self.call("POST", "/v3/roles", {"role": {"name": role}})["role"]["id"]
        self.call("PUT", f"/v3/projects/{project}/users/{user}/roles/{role_id}")

    def grant_domain(self, domain, user, role):
        role_id = self.find("roles", role) or self.call("POST", "/v3/roles", {"role": {"name": role}})["role"]["id"]
        self.call("PUT", f"/v3/domains/{domain}/users/{user}/roles/{role_id}")

    def role(self, name):
        return self.find("roles", name) or self.call("POST", "/v3/roles", {"role": {"name": name}})["role"]["id"]

    def endpoint(self, kind, name, url):
        service = self.call("POST", "/v3/services", {"service": {"type": kind, "name": name}})["service"]["id"]
        for interface in ("public", "internal", "admin"):
            self.call("POST", "/v3/endpoints", {"endpoint": {"service_id": service, "interface": interface,
                                                             "url": url, "region_id": "RegionOne"}})

    def app_credential(self, user, password, project_name):
        token = self._token({"password": {"user": {"id": user, "password": password}}},
                            {"project": {"name": project_name, "domain": {"id": "default"}}})
        # A member's view for the tests' own reads, whatever else the user holds.
        cred = self.call("POST", f"/v3/users/{user}/application_credentials",
                         {"application_credential": {"name": f"region-{project_name}",
                                                     "roles": [{"name": "member"}, {"name": "reader"}]}},
                         token=token)
        return cred["application_credential"]["id"], cred["application_credential"]["secret"], token


def keystone_up(work, port):
    conf = write_config(work, "keystone", "keystone.conf", f"""
[database]
connection = {sqlite(work, 'keystone')}
[token]
provider = fernet
expiration = 7200
[fernet_tokens]
key_repository = {work}/keystone/fernet-keys
[credential]
key_repository = {work}/keystone/credential-keys
""")
    manage = [os.path.join(BIN, "keystone-manage"), "--config-file", os.path.join(conf, "keystone.conf")]
    who = ["--keystone-user", "root", "--keystone-group", "root"] if os.geteuid() == 0 else []
    run(*manage, "db_sync")
    run(*manage, "fernet_setup", *who)
    run(*manage, "credential_setup", *who)
    url = f"http://127.0.0.1:{port}"
    run(*manage, "bootstrap", "--bootstrap-password", ADMIN_PASSWORD, "--bootstrap-admin-url", f"{url}/v3",
        "--bootstrap-public-url", f"{url}/v3", "--bootstrap-internal-url", f"{url}/v3",
        "--bootstrap-region-id", "RegionOne")
    start("keystone", port, conf, work)
    wait_http(f"{url}/v3", "keystone", work)
    return url


def placement_up(work, port, keystone):
    conf = write_config(work, "placement", "placement.conf", f"""
[placement_database]
connection = {sqlite(work, 'placement')}
[api]
auth_strategy = keystone
{authtoken(keystone, 'placement')}
""")
    run(os.path.join(BIN, "placement-manage"), "--config-file", os.path.join(conf, "placement.conf"), "db", "sync")
    start("placement", port, conf, work)
    return f"http://127.0.0.1:{port}"


def glance_up(work, port, keystone):
    for sub in ("images", "staging", "tasks"):
        os.makedirs(os.path.join(work, "glance-" + sub))
    conf = write_config(work, "glance", "glance-api.conf", f"""
enabled_backends = fs:file
[database]
connection = {sqlite(work, 'glance')}
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = {work}/glance-images
[os_glance_staging_store]
filesystem_store_datadir = {work}/glance-staging
[os_glance_tasks_store]
filesystem_store_datadir = {work}/glance-tasks
[paste_deploy]
flavor = keystone
{authtoken(keystone, 'glance')}
""")
    for name in os.listdir(os.path.join(ETC, "glance")):
        if name.endswith(".ini") or name.endswith(".json"):
            write(os.path.join(conf, name), open(os.path.join(ETC, "glance", name)).read())
    run(os.path.join(BIN, "glance-manage"), "--config-file", os.path.join(conf, "glance-api.conf"), "db_sync")
    start("glance", port, conf, work)
    return f"http://127.0.0.1:{port}"


def neutron_up(work, port, keystone):
    conf = write_config(work, "neutron", "neutron.conf", f"""
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = fake://
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
api_paste_config = {work}/neutron/api-paste.ini
[database]
connection = {sqlite(work, 'neutron')}
{authtoken(keystone, 'neutron')}
[oslo_concurrency]
lock_path = {work}/neutron-locks
""")
    write(os.path.join(conf, "ml2_conf.ini"), """
[ml2]
type_drivers = flat,vlan,local
tenant_network_types = vlan
mechanism_drivers = bindall
extension_drivers = port_security
[ml2_type_flat]
flat_networks = public
[ml2_type_vlan]
# physnet1 for Neutron's own tenant networks; physnet2 for provider networks only (no tenant range):
# the VLANs a region with provider networks allocates itself.
network_vlan_ranges = physnet1:100:299,physnet2
""")
    write(os.path.join(conf, "policy.yaml"), UNIKORN_NEUTRON_POLICY)
    write(os.path.join(conf, "api-paste.ini"), open(os.path.join(ETC, "neutron", "api-paste.ini")).read())
    # neutron-db-manage cannot upgrade on sqlite (a migration alters constraints): the tables from
    # the models, then stamped, as Neutron's own unit tests do.
    script = (
        "import sqlalchemy, sys\n"
        "from neutron.db.migration.models import head\n"
        f"head.get_metadata().create_all(sqlalchemy.create_engine({sqlite(work, 'neutron')!r}))\n"
    )
    run(sys.executable, "-c", script)
    run(os.path.join(BIN, "neutron-db-manage"), "--config-file", os.path.join(conf, "neutron.conf"),
        "--config-file", os.path.join(conf, "ml2_conf.ini"), "stamp", "heads")
    start("neutron", port, conf, work, extra_path=[os.path.join(HERE, "bindall")])
    return f"http://127.0.0.1:{port}"


def nova_up(work, port, keystone, neutron, glance):
    url = f"http://127.0.0.1:{port}"
    conf = write_config(work, "nova", "nova.conf", f"""
compute_driver = fake.FakeDriver
transport_url = fake://
host = compute-1
state_path = {work}/nova-state
allow_resize_to_same_host = true
# No agent sends network-vif-plugged.
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
[api]
auth_strategy = keystone
[api_database]
connection = {sqlite(work, 'nova_api')}
[database]
connection = {sqlite(work, 'nova_cell1')}
[oslo_messaging_notifications]
driver = noop
[oslo_concurrency]
lock_path = {work}/nova-locks
[scheduler]
discover_hosts_in_cells_interval = -1
[conductor]
workers = 1
[vnc]
enabled = true
novncproxy_base_url = http://127.0.0.1:6080/vnc_auto.html
[glance]
region_name = RegionOne
{authtoken(keystone, 'nova')}
{service_auth('placement', keystone)}
{service_auth('neutron', keystone)}
{service_auth('service_user', keystone, extra='send_service_user_token = true')}
""")
    write(os.path.join(conf, "api-paste.ini"), open(os.path.join(ETC, "nova", "api-paste.ini")).read())
    write(os.path.join(conf, "policy.yaml"), UNIKORN_NOVA_POLICY)
    manage = [os.path.join(BIN, "nova-manage"), "--config-file", os.path.join(conf, "nova.conf")]
    run(*manage, "api_db", "sync")
    run(*manage, "cell_v2", "map_cell0", "--database_connection", sqlite(work, "nova_cell0"))
    run(*manage, "cell_v2", "create_cell", "--name", "cell1", "--database_connection", sqlite(work, "nova_cell1"),
        "--transport-url", "fake://")
    run(*manage, "db", "sync")
    start("nova", port, conf, work)
    return url


def catalog(ks, urls):
    # Unikorn's default cluster roles: a cloud with a load balancer service has this one.
    ks.role("load-balancer_member")
    service_project = ks.project("service")
    for user in SERVICES:
        uid = ks.user(user, SERVICE_PASSWORD, service_project)
        ks.grant(service_project, uid, "admin")
        ks.grant(service_project, uid, "service")
    ks.endpoint("compute", "nova", f"{urls['nova']}/v2.1")
    ks.endpoint("placement", "placement", urls["placement"])
    ks.endpoint("image", "glance", urls["glance"])
    ks.endpoint("network", "neutron", urls["neutron"])


def member(ks, project_name):
    """A project, a user in it with a password (a region's credential, as Unikorn's region secret
    holds it: the user is privileged, as a region's is, so `admin` too, and its domain's `admin`,
    with which it makes each network's project and user) and an application credential the tests
    read the project's objects with."""
    project = ks.project(project_name)
    user = ks.user(f"{project_name}-user", DEMO_PASSWORD, project)
    for role in ("member", "reader", "admin"):
        ks.grant(project, user, role)
    ks.grant_domain("default", user, "admin")
    cred_id, secret, token = ks.app_credential(user, DEMO_PASSWORD, project_name)
    return {"project_id": project, "user_id": user, "password": DEMO_PASSWORD, "domain_id": "default",
            "app_cred_id": cred_id, "app_cred_secret": secret}, token


def admin_call(ks, method, url, body=None, ok=(200, 201, 202, 204), headers=None):
    r = requests.request(method, url, json=body, timeout=60,
                         headers={"X-Auth-Token": ks.token, **(headers or {})})
    if r.status_code not in ok:
        raise SystemExit(f"{method} {url}: {r.status_code} {r.text[:800]}")
    return r.json() if r.content else {}


def as_member(token, method, url, body):
    r = requests.request(method, url, json=body, headers={"X-Auth-Token": token}, timeout=60)
    if r.status_code not in (200, 201):
        raise SystemExit(f"{method} {url}: {r.status_code} {r.text[:500]}")
    return r.json()


def networks(ks, neutron, demo_token, quota_token):
    """The external network (admin's), and a network of each project's own: Neutron's default policy
    lets only a network's owner (or an admin) put allowed address pairs on its ports."""
    public = admin_call(ks, "POST", f"{neutron}/v2.0/networks", {"network": {
        "name": "public", "router:external": True, "provider:network_type": "flat",
        "provider:physical_network": "public"}})["network"]["id"]
    admin_call(ks, "POST", f"{neutron}/v2.0/subnets", {"subnet": {
        "network_id": public, "cidr": "172.24.4.0/24", "ip_version": 4, "name": "public-subnet",
        "gateway_ip": "172.24.4.1", "enable_dhcp": False}})
    env = {"external_network_id": public}
    for key, token, cidr in (("network_id", demo_token, "10.0.0.0/16"), ("quota_network_id", quota_token, "10.1.0.0/16")):
        network = as_member(token, "POST", f"{neutron}/v2.0/networks", {"network": {"name": "private"}})["network"]["id"]
        subnet = as_member(token, "POST", f"{neutron}/v2.0/subnets", {"subnet": {
            "network_id": network, "cidr": cidr, "ip_version": 4, "name": "private-subnet"}})["subnet"]["id"]
        # A router to the external network: floating IPs need the subnet reachable from it.
        router = as_member(token, "POST", f"{neutron}/v2.0/routers", {"router": {
            "name": "router", "external_gateway_info": {"network_id": public}}})["router"]["id"]
        as_member(token, "PUT", f"{neutron}/v2.0/routers/{router}/add_router_interface", {"subnet_id": subnet})
        env[key] = network
    for name in ("web", "ssh"):
        group = as_member(demo_token, "POST", f"{neutron}/v2.0/security-groups", {"security_group": {"name": name}})
        env[f"security_group_{name}"] = group["security_group"]["id"]
    return env


# The test signing key (tests/fixtures/signing): an operator signs each global image's id with the
# region's key, and the region offers only images whose `unikorn:digest` verifies.
SIGNING_KEY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "signing", "private.pem")

# Unikorn's image properties, as an operator sets them on a region's images.
UNIKORN_PROPERTIES = {"unikorn:os:kernel": "linux", "unikorn:os:family": "cirros", "unikorn:os:distro": "cirros",
                      "unikorn:os:version": "0.6.2", "unikorn:virtualization": "virtualized",
                      "architecture": "x86_64"}


def digest(image_id):
    """base64 of the ASN.1 ECDSA P-256 signature of SHA-256(image id): Unikorn's `unikorn:digest`."""
    with open(SIGNING_KEY, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    signature = key.sign(hashlib.sha256(image_id.encode()).digest(), ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    return base64.b64encode(signature).decode()


def image(ks, glance, name, properties=None, signed_as=None):
    """A public raw image with `properties`; with Unikorn's, `unikorn:digest` signs `signed_as`
    (the image's own id unless given: another id makes a forged digest)."""
    image_id = str(uuid.uuid4())
    body = {"id": image_id, "name": name, "disk_format": "raw", "container_format": "bare", "visibility": "public",
            "min_disk": 1, **(properties or {})}
    if properties:
        body["unikorn:digest"] = digest(signed_as or image_id)
    admin_call(ks, "POST", f"{glance}/v2/images", body)
    r = requests.put(f"{glance}/v2/images/{image_id}/file", data=b"\0" * 4096, timeout=60,
                     headers={"X-Auth-Token": ks.token, "Content-Type": "application/octet-stream"})
    if r.status_code != 204:
        raise SystemExit(f"image upload: {r.status_code} {r.text[:500]}")
    return image_id


def images(ks, glance):
    """Two signed images with Unikorn's properties (the catalogue's), one without them, one whose
    digest signs another id."""
    made = {"image_id": image(ks, glance, "cirros-raw", UNIKORN_PROPERTIES),
            "second_image_id": image(ks, glance, "cirros-raw-2", UNIKORN_PROPERTIES),
            "plain_image_id": image(ks, glance, "cirros-plain")}
    made["forged_image_id"] = image(ks, glance, "cirros-forged", UNIKORN_PROPERTIES, signed_as=made["image_id"])
    return made


def flavors(ks, nova):
    made = {}
    # m1.huge asks for more RAM than the default quota (51,200 MB) allows: the quota refusal, on purpose.
    # m1.nohost fits every quota (Nova does not count disk) but asks for more disk than the fake
    # driver's compute node has (600,000 GB): Placement has no candidate, the scheduler no valid host.
    for name, vcpus, ram, disk in (("m1.small", 1, 512, 10), ("m1.large", 2, 1024, 20), ("m1.tiny", 1, 256, 1),
                                   ("m1.huge", 1, 60000, 10), ("m1.nohost", 1, 256, 1000000)):
        made[name] = admin_call(ks, "POST", f"{nova}/v2.1/flavors", {"flavor": {
            "name": name, "vcpus": vcpus, "ram": ram, "disk": disk}})["flavor"]["id"]
    # A private flavor the demo project has access to: Nova lists it to the project, no region offers it.
    private = admin_call(ks, "POST", f"{nova}/v2.1/flavors", {"flavor": {
        "name": "p1.reserved", "vcpus": 1, "ram": 256, "disk": 1, "os-flavor-access:is_public": False}})["flavor"]["id"]
    return {"flavor_small": made["m1.small"], "flavor_large": made["m1.large"], "flavor_tiny": made["m1.tiny"],
            "flavor_huge": made["m1.huge"], "flavor_nohost": made["m1.nohost"], "flavor_private": private}


def wait_compute(ks, nova, deadline=120):
    """Until the compute host is up and mapped (a create before that finds no valid host)."""
    end = time.time() + deadline
    while time.time() < end:
        services = admin_call(ks, "GET", f"{nova}/v2.1/os-services?binary=nova-compute")["services"]
        hypervisors = admin_call(ks, "GET", f"{nova}/v2.1/os-hypervisors")["hypervisors"]
        if any(s["state"] == "up" for s in services) and hypervisors:
            return
        time.sleep(0.5)
    raise SystemExit("nova-compute did not come up")


def stop(*_):
    for _, child in reversed(children):
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    for _, child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
    sys.exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--env")
    parser.add_argument("--work")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="real-openstack-")
    os.makedirs(work, exist_ok=True)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    started = time.time()
    try:
        ports = {name: free_port() for name in ("keystone", *SERVICES)}
        keystone = keystone_up(work, ports["keystone"])
        ks = Keystone(keystone)
        urls = {"keystone": keystone}
        urls["placement"] = f"http://127.0.0.1:{ports['placement']}"
        urls["glance"] = f"http://127.0.0.1:{ports['glance']}"
        urls["neutron"] = f"http://127.0.0.1:{ports['neutron']}"
        urls["nova"] = f"http://127.0.0.1:{ports['nova']}"
        catalog(ks, urls)
        placement_up(work, ports["placement"], keystone)
        glance_up(work, ports["glance"], keystone)
        neutron_up(work, ports["neutron"], keystone)
        for name in ("placement", "glance", "neutron"):
            wait_http(urls[name], name, work)
        nova_up(work, ports["nova"], keystone, urls["neutron"], urls["glance"])
        wait_http(urls["nova"], "nova", work, timeout=180)
        demo, demo_token = member(ks, "region-demo")
        quota, quota_token = member(ks, "region-quota")
        admin = {"user": "admin", "password": ADMIN_PASSWORD, "project": "admin"}
        env = {"auth_url": f"{keystone}/v3", **urls, "work": work, "demo": demo, "quota_project": quota, "admin": admin}
        env.update(images(ks, urls["glance"]))
        env.update(networks(ks, urls["neutron"], demo_token, quota_token))
        env.update(flavors(ks, urls["nova"]))
        admin_call(ks, "POST", f"{urls['nova']}/v2.1/flavors/{env['flavor_private']}/action",
                   {"addTenantAccess": {"tenant": demo["project_id"]}})
        # The demo project takes parallel suites; region-quota keeps Nova's defaults (10 instances,
        # 51,200 MB of RAM) for the quota refusal.
        admin_call(ks, "PUT", f"{urls['nova']}/v2.1/os-quota-sets/{demo['project_id']}",
                   {"quota_set": {"instances": 200, "cores": 2000, "ram": 4096000}})
        wait_compute(ks, urls["nova"])
        env["ready_seconds"] = round(time.time() - started, 1)
    except BaseException as failure:
        for name, child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
        # Waiting tests fail at once, with the reason, instead of timing out.
        if args.env:
            write(args.env, json.dumps({"error": str(failure)[-4000:] or type(failure).__name__}))
        raise
    text = json.dumps(env)
    if args.env:
        write(args.env, text)
    print(text, flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()

//! The demo region: a project with an application credential, images, flavors, a tenant network,
//! an external network for floating IPs, and security groups.
//! Ids are fixed so the local stack, the tests and the README can name them.

use std::collections::BTreeMap;

use crate::model::{now, AppCredential, Flavor, Image, User};
use crate::neutron::model::{Net, Network, SecurityGroup};

pub const DEMO_PROJECT_ID: &str = "5ef70662f8b34079a6eddb8da9d75fe8";
pub const DEMO_USER_ID: &str = "423f19a4ac1e4f48bbb4180756e6eb6c";
pub const DEMO_APP_CRED_ID: &str = "a1b2c3d4e5f64789a0b1c2d3e4f5a6b7";
pub const DEMO_APP_CRED_NAME: &str = "region-demo";
pub const DEMO_APP_CRED_SECRET: &str = "demo-application-credential-secret";
pub const OTHER_PROJECT_ID: &str = "0f4c1a9e2b7d4e6f8a3c5b7d9e1f2a4c";
pub const OTHER_APP_CRED_ID: &str = "b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2";
pub const OTHER_APP_CRED_SECRET: &str = "other-application-credential-secret";

/// The region's own user (Unikorn's region secret: domain, user, password, project): the demo
/// project is the region's project; it also holds a role on its domain.
pub const DOMAIN_ID: &str = "default";
pub const REGION_USER_ID: &str = "9d3a7c51e2b84f06a1c4e8b2d7f0a3c5";
pub const REGION_PASSWORD: &str = "region-user-password";
/// A user of the other project, for tests that look from outside the region's project.
pub const OTHER_USER_ID: &str = "2e8f4b6a0c1d4e3f9a7b5c3d1e0f2a4b";
pub const OTHER_PASSWORD: &str = "other-user-password";

pub const IMAGE_UBUNTU: &str = "1bea47ed-f6a9-463b-b423-14b9cca9ad27";
pub const IMAGE_LARGE: &str = "6a8d3f0e-2c41-4b57-9e8a-0d4c7b9f1e22";
pub const IMAGE_QUEUED: &str = "9c2e7b14-5d3a-4f68-8b1e-3a7c9d0f2e44";
pub const IMAGE_PRIVATE_OTHER: &str = "c4d1e8a2-7b3f-4e59-a0c6-5f2d8e1b9a33";
/// Public, but without Unikorn's properties: no region offers it.
pub const IMAGE_PLAIN: &str = "d8f3a1b6-4c2e-4d7a-9b5f-e0c1a2b3d4e5";
/// Unikorn's properties with a digest the signing key did not make: offered only where the region
/// checks no signatures.
pub const IMAGE_FORGED: &str = "e2b7c9d4-1f3a-4e8b-a6c5-7d0e9f1a2b3c";
/// A GPU image sized by its virtual size (no `min_disk`).
pub const IMAGE_GPU: &str = "f5a9c3e1-8b2d-4f6a-b7c4-2e1d0f9a8b7c";
/// The tenant network servers boot on (shared, so every project's servers can use it).
pub const TENANT_NETWORK: &str = "4f1c7d2e-0b9a-4c3d-8e7f-6a5b4c3d2e1f";
/// The external network (`router:external`) floating IPs are allocated from: the first Neutron
/// lists, so a region with no selector takes it.
pub const EXTERNAL_NETWORK: &str = "9a0e5b1c-3d2f-4e6a-8b7c-1d0e2f3a4b5c";
/// A second external network, tagged `legacy`, for the region selectors to choose.
pub const EXTERNAL_NETWORK_LEGACY: &str = "b3c4d5e6-7f80-4a1b-9c2d-3e4f5a6b7c8d";
/// Security groups of the demo project besides its `default` one.
pub const SECURITY_GROUP_WEB: &str = "5b2d7e8f-1a3c-4d5e-9f0a-b1c2d3e4f5a6";
pub const SECURITY_GROUP_SSH: &str = "6c3e8f9a-2b4d-4e6f-a01b-c2d3e4f5a6b7";
pub const FLAVOR_SMALL: &str = "2";
pub const FLAVOR_TINY: &str = "1";
pub const FLAVOR_LARGE: &str = "4";
pub const FLAVOR_GPU: &str = "g1";
/// Private, with access for the demo project: Nova lists it to that project, no region offers it.
pub const FLAVOR_PRIVATE: &str = "p1";

fn ubuntu_properties() -> BTreeMap<String, String> {
    [
        ("unikorn:os:kernel", "linux"),
        ("unikorn:os:family", "debian"),
        ("unikorn:os:distro", "ubuntu"),
        ("unikorn:os:version", "24.04"),
        ("unikorn:os:codename", "noble"),
        ("unikorn:virtualization", "virtualized"),
        ("unikorn:package:kubernetes", "v1.31.2"),
        ("architecture", "x86_64"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

pub fn credentials() -> Vec<AppCredential> {
    vec![
        AppCredential {
            id: DEMO_APP_CRED_ID.into(),
            name: DEMO_APP_CRED_NAME.into(),
            secret: DEMO_APP_CRED_SECRET.into(),
            user_id: DEMO_USER_ID.into(),
            project_id: DEMO_PROJECT_ID.into(),
        },
        AppCredential {
            id: OTHER_APP_CRED_ID.into(),
            name: "region-other".into(),
            secret: OTHER_APP_CRED_SECRET.into(),
            user_id: "7d1c0e3b9a8f4c2d6e5b4a3f2e1d0c9b".into(),
            project_id: OTHER_PROJECT_ID.into(),
        },
    ]
}

pub fn users() -> Vec<User> {
    vec![
        User {
            id: REGION_USER_ID.into(),
            name: "unikorn-region".into(),
            domain_id: DOMAIN_ID.into(),
            password: REGION_PASSWORD.into(),
            projects: [DEMO_PROJECT_ID.to_owned()].into(),
            domains: [DOMAIN_ID.to_owned()].into(),
        },
        User {
            id: OTHER_USER_ID.into(),
            name: "other".into(),
            domain_id: DOMAIN_ID.into(),
            password: OTHER_PASSWORD.into(),
            projects: [OTHER_PROJECT_ID.to_owned()].into(),
            domains: Default::default(),
        },
    ]
}

/// The demo images; global ones are signed with the test signing key, as an operator signs them.
pub fn images() -> Vec<Image> {
    let image = |id: &str, name: &str, status: &str, min_disk: u64, owner: Option<&str>, visibility: &str| Image {
        id: id.into(),
        name: name.into(),
        status: status.into(),
        owner: owner.map(str::to_owned).or_else(|| Some("admin-project".into())),
        visibility: visibility.into(),
        min_disk,
        size: Some(2_361_393_152),
        virtual_size: Some(21_474_836_480),
        tags: vec!["unikorn".into()],
        properties: ubuntu_properties(),
        created_at: now(),
        active_at: None,
    };
    let mut plain = image(IMAGE_PLAIN, "cirros", "active", 1, None, "public");
    plain.properties.clear();
    let mut forged = image(IMAGE_FORGED, "ubuntu-24.04-forged", "active", 20, None, "public");
    // A well-formed signature, of another image's id.
    if let Some(other) = crate::signing::digest(IMAGE_UBUNTU) {
        forged.properties.insert(crate::signing::DIGEST.into(), other);
    }
    let mut gpu = image(IMAGE_GPU, "ubuntu-24.04-nvidia", "active", 0, None, "public");
    gpu.virtual_size = Some(32_212_254_721);
    gpu.properties.extend(
        [
            ("unikorn:gpu_vendor", "NVIDIA"),
            ("unikorn:gpu_models", "H100,A100"),
            ("unikorn:gpu_driver_version", "550.54"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let mut images = vec![
        image(IMAGE_UBUNTU, "ubuntu-24.04", "active", 20, None, "public"),
        image(IMAGE_LARGE, "ubuntu-24.04-large-disk", "active", 200, None, "public"),
        image(IMAGE_QUEUED, "ubuntu-24.04-uploading", "queued", 20, None, "public"),
        image(IMAGE_PRIVATE_OTHER, "other-project-image", "active", 10, Some(OTHER_PROJECT_ID), "private"),
        plain,
        forged,
        gpu,
    ];
    images.iter_mut().for_each(crate::signing::sign);
    images
}

pub fn flavors() -> Vec<Flavor> {
    let flavor = |id: &str, name: &str, vcpus: u32, ram: u64, disk: u64, specs: &[(&str, &str)]| Flavor {
        id: id.into(),
        name: name.into(),
        vcpus,
        ram,
        disk,
        extra_specs: specs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        is_public: true,
        access: Default::default(),
    };
    let mut private = flavor(FLAVOR_PRIVATE, "p1.reserved", 4, 8192, 80, &[]);
    private.is_public = false;
    private.access.insert(DEMO_PROJECT_ID.into());
    vec![
        flavor(FLAVOR_TINY, "m1.tiny", 1, 512, 1, &[]),
        flavor(FLAVOR_SMALL, "m1.small", 2, 4096, 40, &[("hw:cpu_policy", "shared")]),
        flavor(FLAVOR_LARGE, "m1.large", 8, 16384, 250, &[]),
        flavor(
            FLAVOR_GPU,
            "g1.large",
            16,
            65536,
            250,
            &[("resources:VGPU", "1"), ("trait:CUSTOM_NVIDIA_H100", "required")],
        ),
        private,
    ]
}

/// The networks and security groups of the demo region.
pub fn network(net: &mut Net) {
    let network = |id: &str, name: &str, external: bool, prefix: &str, tags: &[&str]| Network {
        id: id.into(),
        name: name.into(),
        project_id: "admin-project".into(),
        shared: !external,
        external,
        subnet_id: format!("{}-subnet", &id[..8]),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        prefix: prefix.into(),
        next_host: 0,
        pool: None,
        segment: None,
    };
    for n in [
        network(TENANT_NETWORK, "tenant", false, "10.0", &[]),
        network(EXTERNAL_NETWORK, "public", true, "172.24", &["public"]),
        network(EXTERNAL_NETWORK_LEGACY, "public-legacy", true, "172.25", &["public", "legacy"]),
    ] {
        net.networks.insert(n.id.clone(), n);
    }
    for (id, name) in [(SECURITY_GROUP_WEB, "web"), (SECURITY_GROUP_SSH, "ssh")] {
        let group = SecurityGroup {
            id: id.into(),
            name: name.into(),
            project_id: DEMO_PROJECT_ID.into(),
            description: format!("{name} access"),
        };
        net.security_groups.insert(id.into(), group);
    }
    net.default_group(DEMO_PROJECT_ID);
}

//! Which images a region offers and how: Unikorn's schema, the signature, the conversion.

use super::*;
use crate::regions::Regions;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::SigningKey;
use p256::pkcs8::DecodePrivateKey;

const PUBLIC: &str = include_str!("../../../../tests/fixtures/signing/public.pem");
const PRIVATE: &str = include_str!("../../../../tests/fixtures/signing/private.pem");

fn region(signed: bool) -> OpenStackRegion {
    let mut os = serde_json::json!({"endpoint": "http://k/v3", "serviceAccountSecret": "s"});
    if signed {
        os["image"] = serde_json::json!({"selector": {"signingKey": PUBLIC}});
    }
    let doc = serde_json::json!({"regions": [{"id": "r", "name": "r", "type": "openstack", "openstack": os}]});
    let regions = Regions::parse(&doc.to_string()).unwrap_or_else(|e| panic!("{e}"));
    regions.get("r").and_then(|r| r.openstack.clone()).unwrap_or_else(|| panic!("openstack"))
}

/// What the emulator and the real tier write: the signature of SHA-256(id), ASN.1, base64.
fn digest(id: &str) -> String {
    let key = SigningKey::from_pkcs8_pem(PRIVATE).unwrap_or_else(|e| panic!("{e}"));
    let signature: p256::ecdsa::Signature =
        key.sign_prehash(&sha2::Sha256::digest(id.as_bytes())).unwrap_or_else(|e| panic!("{e}"));
    base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes())
}

fn image(id: &str, extra: &[(&str, &str)]) -> Image {
    let mut properties: BTreeMap<String, String> = [
        ("unikorn:os:kernel", "linux"),
        ("unikorn:os:family", "debian"),
        ("unikorn:os:distro", "ubuntu"),
        ("unikorn:os:version", "24.04"),
        ("unikorn:virtualization", "virtualized"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        properties.insert(k.to_string(), v.to_string());
    }
    Image {
        id: id.into(),
        name: format!("image-{id}"),
        state: ImageState::Ready,
        min_disk_gib: 20,
        properties,
        ..Image::default()
    }
}

#[test]
fn the_schema_decides_which_images_are_offered() {
    let region = region(false);
    let cases: Vec<(Image, bool)> = vec![
        (image("plain", &[]), true),
        (image("no-kernel", &[("unikorn:os:kernel", "windows")]), false),
        (image("bad-virt", &[("unikorn:virtualization", "container")]), false),
        (image("k8s", &[("unikorn:package:kubernetes", "v1.31.2")]), true),
        (image("k8s-bad", &[("unikorn:package:kubernetes", "1.31")]), false),
        (image("slurm-bad", &[("unikorn:package:slurmd", "v24.05")]), false),
        (image("other-package", &[("unikorn:package:helm", "3.1")]), true),
        (
            image(
                "gpu",
                &[
                    ("unikorn:gpu_vendor", "NVIDIA"),
                    ("unikorn:gpu_models", "H100,A100"),
                    ("unikorn:gpu_driver_version", "550"),
                ],
            ),
            true,
        ),
        (image("gpu-no-driver", &[("unikorn:gpu_vendor", "NVIDIA"), ("unikorn:gpu_models", "H100")]), false),
        (
            image(
                "gpu-intel",
                &[("unikorn:gpu_vendor", "Intel"), ("unikorn:gpu_models", "A"), ("unikorn:gpu_driver_version", "1")],
            ),
            false,
        ),
        (
            image(
                "gpu-models",
                &[("unikorn:gpu_vendor", "AMD"), ("unikorn:gpu_models", "MI300,"), ("unikorn:gpu_driver_version", "6")],
            ),
            false,
        ),
    ];
    for (img, expected) in cases {
        let id = img.id.clone();
        assert_eq!(offered_images(&region, vec![img]).len(), usize::from(expected), "{id}");
    }
    let mut missing = image("no-family", &[]);
    missing.properties.remove("unikorn:os:family");
    assert!(offered_images(&region, vec![missing]).is_empty());
}

#[test]
fn with_a_signing_key_global_images_need_their_signature_and_owned_ones_do_not() {
    let region = region(true);
    let signed = image("a1", &[("unikorn:digest", &digest("a1"))]);
    let someone_elses = image("a2", &[("unikorn:digest", &digest("a1"))]);
    let unsigned = image("a3", &[]);
    let garbage = image("a4", &[("unikorn:digest", "not base64!")]);
    let owned = image("a5", &[("unikorn:organization:id", "org-a")]);
    let offered: Vec<String> = offered_images(&region, vec![signed, someone_elses, unsigned, garbage, owned])
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(offered, ["a1", "a5"]);
}

#[test]
fn an_image_is_described_in_unikorns_words() {
    let mut img = image(
        "x",
        &[
            ("unikorn:tag:team", "blue"),
            ("unikorn:tag:images.unikorn-cloud.org:source", "snapshot"),
            ("unikorn:package:kubernetes", "v1.31.2"),
            ("unikorn:kubernetes_version", "v1.30.0"),
            ("unikorn:os:codename", "noble"),
            ("unikorn:organization:id", "org-a"),
            ("unikorn:gpu_vendor", "NVIDIA"),
            ("unikorn:gpu_models", "H100,A100"),
            ("unikorn:gpu_driver_version", "550"),
        ],
    );
    img.min_disk_gib = 0;
    img.virtual_size_bytes = Some(3 * GIB + 1);
    img.architecture = Some("aarch64".into());
    img.state = ImageState::Creating;
    let offered = offered_images(&region(true), vec![img]).pop().unwrap_or_else(|| panic!("offered"));
    assert_eq!(offered.size_gib, 4, "the virtual size, rounded up, when min_disk is 0");
    assert_eq!(offered.architecture, "aarch64");
    assert_eq!(
        offered.tags,
        [("images.unikorn-cloud.org:source".to_owned(), "snapshot".to_owned()), ("team".to_owned(), "blue".to_owned())]
    );
    assert_eq!(offered.software_versions.get("kubernetes").map(String::as_str), Some("v1.31.2"), "the package wins");
    assert_eq!(offered.os.codename.as_deref(), Some("noble"));
    assert_eq!(offered.gpu.as_ref().and_then(|g| g.models.clone()), Some(vec!["H100".into(), "A100".into()]));
    assert_eq!((offered.state, offered.organization.as_deref()), (ImageState::Creating, Some("org-a")));
    assert!(offered.offered_to("org-a") && !offered.offered_to("org-b"));
}

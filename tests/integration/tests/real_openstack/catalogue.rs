//! The regions' catalogue on real Nova, Glance and Neutron, and the same checks on the emulator:
//! what each lists, and what a region offers of it (public flavors only, images with Unikorn's
//! properties and a signature the region's key verifies, the external networks).

use shared::domain::catalog::{offered_external_networks, offered_flavors, offered_images};
use shared::provider::ImageListing;
use shared::regions::{OpenStackRegion, Regions};

use super::*;

/// The ids one cloud's catalogue check is about.
struct Seeds {
    offered_images: Vec<String>,
    refused_images: Vec<String>,
    public_flavor: String,
    private_flavor: String,
    external_network: String,
}

fn region(regions: &Regions) -> OpenStackRegion {
    let region = regions.get(integration_tests::stack::REGION).and_then(|r| r.openstack.clone());
    region.unwrap_or_else(|| panic!("the region is OpenStack"))
}

/// What the provider lists and what the region offers of it; answers what differs from `seeds`.
async fn check(
    label: &str,
    provider: &OpenStackProvider,
    cred: &ProviderCredential,
    region: &OpenStackRegion,
    seeds: &Seeds,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expect = |ok: bool, what: &str| {
        if !ok {
            problems.push(format!("{label}: {what}"));
        }
    };
    let nova = provider.list_flavors(cred).await.unwrap_or_else(|e| panic!("{label}: flavors: {e}"));
    let private = nova.iter().find(|f| f.id == seeds.private_flavor);
    expect(private.is_some_and(|f| !f.is_public), "Nova lists the private flavor the project has access to");
    let offered: Vec<String> = offered_flavors(region, nova).into_iter().map(|f| f.id).collect();
    expect(offered.contains(&seeds.public_flavor), "a public flavor is offered");
    expect(!offered.contains(&seeds.private_flavor), "a private flavor is not offered");

    let glance =
        provider.list_images(cred, &ImageListing::PUBLIC).await.unwrap_or_else(|e| panic!("{label}: images: {e}"));
    let listed: Vec<&String> = glance.iter().map(|i| &i.id).collect();
    for id in seeds.offered_images.iter().chain(&seeds.refused_images) {
        expect(listed.contains(&id), &format!("Glance lists public image {id}"));
    }
    let offered: Vec<String> = offered_images(region, glance).into_iter().map(|i| i.id).collect();
    for id in &seeds.offered_images {
        expect(offered.contains(id), &format!("image {id} (Unikorn's properties, signed) is offered"));
    }
    for id in &seeds.refused_images {
        expect(!offered.contains(id), &format!("image {id} (no properties, or a forged digest) is not offered"));
    }

    let neutron = provider.external_networks(cred).await.unwrap_or_else(|e| panic!("{label}: networks: {e}"));
    let offered = offered_external_networks(region, neutron);
    expect(offered.iter().any(|n| n.id == seeds.external_network), "the external network is offered");
    problems
}

#[tokio::test]
async fn the_catalogue_checks_hold_on_real_nova_glance_and_neutron_and_on_the_emulator() {
    let Some(real) = Real::connect().await else { return };
    let seeds = Seeds {
        offered_images: vec![real.id("image_id"), real.id("second_image_id")],
        refused_images: vec![real.id("plain_image_id"), real.id("forged_image_id")],
        public_flavor: real.id("flavor_small"),
        private_flavor: real.id("flavor_private"),
        external_network: real.id("external_network_id"),
    };
    let mut problems = check("real", &real.provider, &real.demo, &region(&real_regions(&real.env)), &seeds).await;

    let emulator = openstack_emulator::Emulator::start_demo().await.unwrap_or_else(|e| panic!("{e}"));
    let regions = integration_tests::stack::regions(&emulator);
    let cred = regions.project_credential(integration_tests::stack::REGION).unwrap_or_else(|e| panic!("{e}"));
    use openstack_emulator::seed;
    let seeds = Seeds {
        offered_images: vec![seed::IMAGE_UBUNTU.into(), seed::IMAGE_LARGE.into()],
        refused_images: vec![seed::IMAGE_PLAIN.into(), seed::IMAGE_FORGED.into()],
        public_flavor: seed::FLAVOR_SMALL.into(),
        private_flavor: seed::FLAVOR_PRIVATE.into(),
        external_network: seed::EXTERNAL_NETWORK.into(),
    };
    problems.extend(check("emulator", &real.provider, &cred, &region(&regions), &seeds).await);
    assert!(problems.is_empty(), "the catalogue checks:\n{}", problems.join("\n"));
}

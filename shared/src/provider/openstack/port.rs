//! The provider port (each of its parts), implemented by delegating to one module per OpenStack service.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::client::OpenStackProvider;
use super::{compute, image, keypairs, network};
use crate::provider::networking::{ExternalNetwork, Page};
use crate::provider::{
    AllowedAddress, Compute, Flavor, Flavors, Image, ImageListing, Images, Keypair, Keypairs, Networking, PortSpec,
    PowerAction, ProviderCredential, ProviderPort, ProviderServer, PublicIp, Receipt, ServerCreate, ServerPage,
};
use crate::provider::{RegionListing, Result};

#[async_trait]
impl Compute for OpenStackProvider {
    async fn create_server(&self, cred: &ProviderCredential, server: &ServerCreate) -> Result<(String, Receipt)> {
        compute::create_server(self, cred, server).await
    }

    async fn get_server(&self, cred: &ProviderCredential, id: &str) -> Result<ProviderServer> {
        compute::get_server(self, cred, id).await
    }

    async fn find_servers(&self, cred: &ProviderCredential, key: &str, value: &str) -> Result<Vec<ProviderServer>> {
        compute::find_servers(self, cred, key, value).await
    }

    async fn list_servers(&self, cred: &ProviderCredential, marker: Option<&str>, limit: u32) -> Result<ServerPage> {
        compute::list_servers(self, cred, (marker, limit), false).await
    }

    async fn delete_server(&self, cred: &ProviderCredential, id: &str) -> Result<Receipt> {
        compute::delete_server(self, cred, id).await
    }

    async fn power(&self, cred: &ProviderCredential, id: &str, action: PowerAction) -> Result<Receipt> {
        compute::power(self, cred, id, action).await
    }

    async fn resize(&self, cred: &ProviderCredential, id: &str, flavor_id: &str) -> Result<Receipt> {
        compute::resize(self, cred, id, flavor_id).await
    }

    async fn confirm_resize(&self, cred: &ProviderCredential, id: &str) -> Result<Receipt> {
        compute::confirm_resize(self, cred, id).await
    }

    async fn rebuild(&self, cred: &ProviderCredential, id: &str, image_id: &str) -> Result<Receipt> {
        compute::rebuild(self, cred, id, image_id).await
    }

    async fn console_output(&self, cred: &ProviderCredential, id: &str, length: Option<u32>) -> Result<String> {
        compute::console_output(self, cred, id, length).await
    }

    async fn console_url(&self, cred: &ProviderCredential, id: &str) -> Result<String> {
        compute::console_url(self, cred, id).await
    }
}

#[async_trait]
impl Images for OpenStackProvider {
    async fn create_image(
        &self,
        cred: &ProviderCredential,
        server_id: &str,
        name: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(String, Receipt)> {
        compute::create_image(self, cred, server_id, name, metadata).await
    }

    async fn get_image(&self, cred: &ProviderCredential, id: &str) -> Result<Image> {
        image::get_image(self, cred, id).await
    }

    async fn find_image(&self, cred: &ProviderCredential, property: &str, value: &str) -> Result<Option<Image>> {
        image::find_image(self, cred, property, value).await
    }

    async fn list_images(&self, cred: &ProviderCredential, listing: &ImageListing<'_>) -> Result<Vec<Image>> {
        image::list_images(self, cred, listing).await
    }

    async fn delete_image(&self, cred: &ProviderCredential, id: &str) -> Result<Receipt> {
        image::delete_image(self, cred, id).await
    }

    async fn publish_image(&self, cred: &ProviderCredential, id: &str) -> Result<Receipt> {
        image::publish_image(self, cred, id).await
    }
}

#[async_trait]
impl Flavors for OpenStackProvider {
    async fn get_flavor(&self, cred: &ProviderCredential, id: &str) -> Result<Flavor> {
        compute::get_flavor(self, cred, id).await
    }

    async fn list_flavors(&self, cred: &ProviderCredential) -> Result<Vec<Flavor>> {
        compute::list_flavors(self, cred).await
    }
}

#[async_trait]
impl Keypairs for OpenStackProvider {
    async fn import_keypair(&self, cred: &ProviderCredential, name: &str, public_key: &str) -> Result<Keypair> {
        keypairs::import_keypair(self, cred, name, public_key).await
    }

    async fn get_keypair(&self, cred: &ProviderCredential, name: &str) -> Result<Keypair> {
        keypairs::get_keypair(self, cred, name).await
    }

    async fn delete_keypair(&self, cred: &ProviderCredential, name: &str) -> Result<()> {
        keypairs::delete_keypair(self, cred, name).await
    }
}

#[async_trait]
impl Networking for OpenStackProvider {
    async fn create_port(&self, cred: &ProviderCredential, spec: &PortSpec) -> Result<(ProviderPort, Receipt)> {
        network::create_port(self, cred, spec).await
    }

    async fn get_port(&self, cred: &ProviderCredential, id: &str) -> Result<ProviderPort> {
        network::get_port(self, cred, id).await
    }

    async fn find_ports(&self, cred: &ProviderCredential, name: &str) -> Result<Vec<ProviderPort>> {
        network::find_ports(self, cred, name).await
    }

    async fn list_ports(
        &self,
        cred: &ProviderCredential,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<Page<ProviderPort>> {
        network::list_ports(self, cred, (marker, limit), false).await
    }

    async fn update_port(
        &self,
        cred: &ProviderCredential,
        id: &str,
        security_groups: &[String],
        allowed_addresses: &[AllowedAddress],
    ) -> Result<(ProviderPort, Receipt)> {
        network::update_port(self, cred, id, security_groups, allowed_addresses).await
    }

    async fn delete_port(&self, cred: &ProviderCredential, id: &str) -> Result<Receipt> {
        network::delete_port(self, cred, id).await
    }

    async fn create_public_ip(
        &self,
        cred: &ProviderCredential,
        external_network: &str,
        port_id: &str,
        description: &str,
    ) -> Result<(PublicIp, Receipt)> {
        network::create_public_ip(self, cred, external_network, port_id, description).await
    }

    async fn public_ips_of(&self, cred: &ProviderCredential, port_id: &str) -> Result<Vec<PublicIp>> {
        network::public_ips_of(self, cred, port_id).await
    }

    async fn list_public_ips(
        &self,
        cred: &ProviderCredential,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<Page<PublicIp>> {
        network::list_public_ips(self, cred, (marker, limit), false).await
    }

    async fn delete_public_ip(&self, cred: &ProviderCredential, id: &str) -> Result<Receipt> {
        network::delete_public_ip(self, cred, id).await
    }

    async fn external_networks(&self, cred: &ProviderCredential) -> Result<Vec<ExternalNetwork>> {
        network::external_networks(self, cred).await
    }

    async fn default_security_group(&self, cred: &ProviderCredential) -> Result<Option<String>> {
        network::default_security_group(self, cred).await
    }
}

#[async_trait]
impl RegionListing for OpenStackProvider {
    async fn region_servers(&self, cred: &ProviderCredential, marker: Option<&str>, limit: u32) -> Result<ServerPage> {
        compute::list_servers(self, cred, (marker, limit), true).await
    }

    async fn region_ports(
        &self,
        cred: &ProviderCredential,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<Page<ProviderPort>> {
        network::list_ports(self, cred, (marker, limit), true).await
    }

    async fn region_public_ips(
        &self,
        cred: &ProviderCredential,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<Page<PublicIp>> {
        network::list_public_ips(self, cred, (marker, limit), true).await
    }

    async fn region_default_groups(
        &self,
        cred: &ProviderCredential,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<Page<(String, String)>> {
        network::default_groups(self, cred, (marker, limit)).await
    }
}

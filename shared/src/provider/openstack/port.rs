//! The provider port (each of its parts), implemented by delegating to one module per OpenStack service.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::client::OpenStackProvider;
use super::{compute, image, keypairs};
use crate::provider::Result;
use crate::provider::{
    Compute, Flavor, Flavors, Image, Images, Keypair, Keypairs, PowerAction, ProviderCredential, ProviderServer,
    Receipt, ServerCreate, ServerPage,
};

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
        compute::list_servers(self, cred, marker, limit).await
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
}

#[async_trait]
impl Flavors for OpenStackProvider {
    async fn get_flavor(&self, cred: &ProviderCredential, id: &str) -> Result<Flavor> {
        compute::get_flavor(self, cred, id).await
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

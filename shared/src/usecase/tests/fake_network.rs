//! The fake provider's networking: ports and public addresses in memory, and the default security
//! group of the one project it serves.

use super::*;
use crate::provider::networking::{ExternalNetwork, Page};
use crate::provider::{AllowedAddress, Networking, PortSpec, ProviderPort, PublicIp};

fn page<T: Clone>(items: Vec<(String, T)>, marker: Option<&str>, limit: u32) -> Page<T> {
    let after: Vec<_> = items.into_iter().filter(|(id, _)| marker.is_none_or(|m| id.as_str() > m)).collect();
    let full = after.len() > limit as usize;
    let items: Vec<_> = after.into_iter().take(limit as usize).collect();
    let next = if full { items.last().map(|(id, _)| id.clone()) } else { None };
    Page { items: items.into_iter().map(|(_, item)| item).collect(), next }
}

#[async_trait]
impl Networking for FakeProvider {
    async fn create_port(&self, _: &ProviderCredential, spec: &PortSpec) -> ProviderResult<(ProviderPort, Receipt)> {
        self.call("create_port")?;
        let mut ports = self.ports.lock().unwrap_or_else(|e| e.into_inner());
        let port = ProviderPort {
            id: format!("port-{}", ports.len() + 1),
            name: spec.name.clone(),
            network_id: spec.network_id.clone(),
            private_ip: Some(format!("10.0.0.{}", ports.len() + 2)),
            mac_address: Some(format!("fa:16:3e:00:00:{:02x}", ports.len() + 1)),
            // Neutron puts a port made without groups in the project's default group.
            security_groups: if spec.security_groups.is_empty() {
                vec!["default".to_owned()]
            } else {
                spec.security_groups.clone()
            },
            allowed_addresses: spec.allowed_addresses.clone(),
            ..Default::default()
        };
        ports.insert(port.id.clone(), port.clone());
        Ok((port, receipt("create_port")))
    }
    async fn get_port(&self, _: &ProviderCredential, id: &str) -> ProviderResult<ProviderPort> {
        self.call("get_port")?;
        let ports = self.ports.lock().unwrap_or_else(|e| e.into_inner());
        ports.get(id).cloned().ok_or_else(|| ProviderError::not_found(format!("port {id}")))
    }
    async fn find_ports(&self, _: &ProviderCredential, name: &str) -> ProviderResult<Vec<ProviderPort>> {
        self.call("find_ports")?;
        let ports = self.ports.lock().unwrap_or_else(|e| e.into_inner());
        Ok(ports.values().filter(|p| p.name == name).cloned().collect())
    }
    async fn list_ports(
        &self,
        _: &ProviderCredential,
        marker: Option<&str>,
        limit: u32,
    ) -> ProviderResult<Page<ProviderPort>> {
        self.call("list_ports")?;
        let ports = self.ports.lock().unwrap_or_else(|e| e.into_inner());
        Ok(page(ports.iter().map(|(k, v)| (k.clone(), v.clone())).collect(), marker, limit))
    }
    async fn update_port(
        &self,
        _: &ProviderCredential,
        id: &str,
        security_groups: &[String],
        allowed_addresses: &[AllowedAddress],
    ) -> ProviderResult<(ProviderPort, Receipt)> {
        self.call("update_port")?;
        let mut ports = self.ports.lock().unwrap_or_else(|e| e.into_inner());
        let port = ports.get_mut(id).ok_or_else(|| ProviderError::not_found(format!("port {id}")))?;
        port.security_groups = security_groups.to_vec();
        port.allowed_addresses = allowed_addresses.to_vec();
        Ok((port.clone(), receipt("update_port")))
    }
    async fn delete_port(&self, _: &ProviderCredential, id: &str) -> ProviderResult<Receipt> {
        self.call("delete_port")?;
        match self.ports.lock().unwrap_or_else(|e| e.into_inner()).remove(id) {
            Some(_) => Ok(receipt("delete_port")),
            None => Err(ProviderError::not_found(format!("port {id}"))),
        }
    }
    async fn create_public_ip(
        &self,
        _: &ProviderCredential,
        _: &str,
        port_id: &str,
        description: &str,
    ) -> ProviderResult<(PublicIp, Receipt)> {
        self.call("create_public_ip")?;
        let mut ips = self.public_ips.lock().unwrap_or_else(|e| e.into_inner());
        let ip = PublicIp {
            id: format!("fip-{}", ips.len() + 1),
            address: format!("172.24.4.{}", ips.len() + 2),
            port_id: Some(port_id.to_owned()),
            description: description.to_owned(),
            created_at: None,
            project_id: None,
        };
        ips.insert(ip.id.clone(), ip.clone());
        Ok((ip, receipt("create_public_ip")))
    }
    async fn public_ips_of(&self, _: &ProviderCredential, port_id: &str) -> ProviderResult<Vec<PublicIp>> {
        self.call("public_ips_of")?;
        let ips = self.public_ips.lock().unwrap_or_else(|e| e.into_inner());
        Ok(ips.values().filter(|ip| ip.port_id.as_deref() == Some(port_id)).cloned().collect())
    }
    async fn list_public_ips(
        &self,
        _: &ProviderCredential,
        marker: Option<&str>,
        limit: u32,
    ) -> ProviderResult<Page<PublicIp>> {
        self.call("list_public_ips")?;
        let ips = self.public_ips.lock().unwrap_or_else(|e| e.into_inner());
        Ok(page(ips.iter().map(|(k, v)| (k.clone(), v.clone())).collect(), marker, limit))
    }
    async fn delete_public_ip(&self, _: &ProviderCredential, id: &str) -> ProviderResult<Receipt> {
        self.call("delete_public_ip")?;
        match self.public_ips.lock().unwrap_or_else(|e| e.into_inner()).remove(id) {
            Some(_) => Ok(receipt("delete_public_ip")),
            None => Err(ProviderError::not_found(format!("floating IP {id}"))),
        }
    }
    async fn external_networks(&self, _: &ProviderCredential) -> ProviderResult<Vec<ExternalNetwork>> {
        self.call("external_networks")?;
        let none = self.no_external_network.load(std::sync::atomic::Ordering::SeqCst);
        Ok((!none)
            .then(|| ExternalNetwork { id: "public".into(), name: "public".into(), tags: vec![] })
            .into_iter()
            .collect())
    }
    async fn default_security_group(&self, _: &ProviderCredential) -> ProviderResult<Option<String>> {
        self.call("default_security_group")?;
        Ok(Some("default".into()))
    }
}

/// The fake's credential is a project member's: it may not list the region (the emulator and the
/// real tier cover region-wide listings).
#[async_trait]
impl crate::provider::RegionListing for FakeProvider {
    async fn region_servers(
        &self,
        _: &ProviderCredential,
        _: Option<&str>,
        _: u32,
    ) -> ProviderResult<crate::provider::ServerPage> {
        self.call("region_servers")?;
        Err(ProviderError::Refused { what: "server list".into(), detail: "not an admin".into() })
    }
    async fn region_ports(
        &self,
        _: &ProviderCredential,
        _: Option<&str>,
        _: u32,
    ) -> ProviderResult<Page<ProviderPort>> {
        Err(ProviderError::Refused { what: "port list".into(), detail: "not an admin".into() })
    }
    async fn region_public_ips(
        &self,
        _: &ProviderCredential,
        _: Option<&str>,
        _: u32,
    ) -> ProviderResult<Page<PublicIp>> {
        Err(ProviderError::Refused { what: "floating IP list".into(), detail: "not an admin".into() })
    }
    async fn region_default_groups(
        &self,
        _: &ProviderCredential,
        _: Option<&str>,
        _: u32,
    ) -> ProviderResult<Page<(String, String)>> {
        Err(ProviderError::Refused { what: "security group list".into(), detail: "not an admin".into() })
    }
}

//! Neutron networks, subnets, routers and router interfaces: the [`Fabric`] port.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};

use super::client::{OpenStackProvider, Service};
use crate::provider::fabric::{Fabric, FabricNetwork, FabricObjects, HostRoute, Segment, SubnetOptions, SubnetSpec};
use crate::provider::{ProviderCredential, ProviderError, Result};
use crate::text::percent_encode as encode;

impl OpenStackProvider {
    pub(super) async fn neutron(
        &self,
        cred: &ProviderCredential,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Value> {
        self.document(cred, Service::Network, (method, path), body, what).await
    }

    /// The credential's own project's `collection` items named exactly `name` (a privileged
    /// credential sees every project's, so the listing names the project).
    pub(super) async fn named(&self, cred: &ProviderCredential, collection: &str, name: &str) -> Result<Vec<Value>> {
        let project = self.project_id(cred).await?.map(|p| format!("&project_id={}", encode(&p))).unwrap_or_default();
        let path = format!("/v2.0/{collection}?name={}{project}", encode(name));
        let listing = self.neutron(cred, Method::GET, &path, None, collection).await?;
        let key = collection.replace('-', "_");
        Ok(listing[key.as_str()]
            .as_array()
            .map(|items| items.iter().filter(|i| i["name"].as_str() == Some(name)).cloned().collect())
            .unwrap_or_default())
    }
}

pub(super) fn id_of(value: &Value, kind: &str) -> Result<String> {
    value[kind]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ProviderError::unavailable(format!("neutron answered a {kind} without an id")))
}

fn network_of(n: &Value) -> Option<FabricNetwork> {
    let vlan = (n["provider:network_type"].as_str() == Some("vlan"))
        .then(|| n["provider:segmentation_id"].as_u64().and_then(|v| u16::try_from(v).ok()))
        .flatten();
    Some(FabricNetwork { id: n["id"].as_str()?.to_owned(), vlan_id: vlan })
}

fn routes(routes: &[HostRoute]) -> Vec<Value> {
    routes.iter().map(|r| json!({"destination": r.destination, "nexthop": r.nexthop.to_string()})).collect()
}

fn options_of(s: &Value) -> SubnetOptions {
    let dns = s["dns_nameservers"].as_array().map(|a| a.iter().filter_map(|v| v.as_str()?.parse().ok()).collect());
    let host_routes = s["host_routes"].as_array().map(|a| {
        a.iter()
            .filter_map(|r| {
                Some(HostRoute {
                    destination: r["destination"].as_str()?.to_owned(),
                    nexthop: r["nexthop"].as_str()?.parse().ok()?,
                })
            })
            .collect()
    });
    SubnetOptions { dns_nameservers: dns.unwrap_or_default(), host_routes: host_routes.unwrap_or_default() }
}

/// A delete whose target is already gone succeeded.
pub(super) fn gone_is_done(result: Result<Value>) -> Result<()> {
    match result {
        Ok(_) | Err(ProviderError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

impl OpenStackProvider {
    /// (id, name) of every item of `collection` in the credential's project.
    async fn all_of(&self, cred: &ProviderCredential, collection: &str) -> Result<Vec<(String, String)>> {
        let project = self.project_id(cred).await?.map(|p| format!("?project_id={}", encode(&p))).unwrap_or_default();
        let listing =
            self.neutron(cred, Method::GET, &format!("/v2.0/{collection}{project}"), None, collection).await?;
        Ok(listing[collection]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| Some((i["id"].as_str()?.to_owned(), i["name"].as_str().unwrap_or_default().to_owned())))
            .collect())
    }
}

#[async_trait]
impl Fabric for OpenStackProvider {
    async fn list_objects(&self, cred: &ProviderCredential) -> Result<FabricObjects> {
        Ok(FabricObjects {
            networks: self.all_of(cred, "networks").await?,
            subnets: self.all_of(cred, "subnets").await?,
            routers: self.all_of(cred, "routers").await?,
        })
    }

    async fn find_network(&self, cred: &ProviderCredential, name: &str) -> Result<Option<FabricNetwork>> {
        Ok(self.named(cred, "networks", name).await?.iter().find_map(network_of))
    }

    async fn create_network(
        &self,
        cred: &ProviderCredential,
        name: &str,
        segment: Option<&Segment>,
    ) -> Result<FabricNetwork> {
        let mut network = json!({"name": name, "description": "unikorn managed provider network"});
        if let Some(s) = segment {
            network["segments"] = json!([{"provider:network_type": "vlan",
                "provider:physical_network": s.physical_network, "provider:segmentation_id": s.vlan_id}]);
        }
        let made =
            self.neutron(cred, Method::POST, "/v2.0/networks", Some(&json!({"network": network})), "network").await?;
        let id = id_of(&made, "network")?;
        Ok(FabricNetwork { id, vlan_id: segment.map(|s| s.vlan_id) })
    }

    async fn delete_network(&self, cred: &ProviderCredential, id: &str) -> Result<()> {
        gone_is_done(
            self.neutron(cred, Method::DELETE, &format!("/v2.0/networks/{}", encode(id)), None, "network").await,
        )
    }

    async fn find_subnet(&self, cred: &ProviderCredential, name: &str) -> Result<Option<(String, SubnetOptions)>> {
        let found = self.named(cred, "subnets", name).await?;
        Ok(found.first().and_then(|s| Some((s["id"].as_str()?.to_owned(), options_of(s)))))
    }

    async fn create_subnet(&self, cred: &ProviderCredential, spec: &SubnetSpec) -> Result<String> {
        let mut subnet = json!({"name": spec.name, "network_id": spec.network_id, "ip_version": 4,
            "cidr": spec.cidr, "gateway_ip": spec.gateway.to_string(),
            "allocation_pools": [{"start": spec.pool.0.to_string(), "end": spec.pool.1.to_string()}],
            "host_routes": routes(&spec.host_routes)});
        // Without nameservers Neutron's DHCP serves its own resolver (hosts resolve each other).
        if !spec.dns_nameservers.is_empty() {
            subnet["dns_nameservers"] = json!(spec.dns_nameservers.iter().map(ToString::to_string).collect::<Vec<_>>());
        }
        let made =
            self.neutron(cred, Method::POST, "/v2.0/subnets", Some(&json!({"subnet": subnet})), "subnet").await?;
        id_of(&made, "subnet")
    }

    async fn update_subnet(&self, cred: &ProviderCredential, id: &str, options: &SubnetOptions) -> Result<()> {
        // Both are sent, empty lists too: a route or nameserver removed from the network leaves the subnet.
        let subnet = json!({"dns_nameservers": options.dns_nameservers.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "host_routes": routes(&options.host_routes)});
        let path = format!("/v2.0/subnets/{}", encode(id));
        self.neutron(cred, Method::PUT, &path, Some(&json!({"subnet": subnet})), "subnet").await.map(drop)
    }

    async fn delete_subnet(&self, cred: &ProviderCredential, id: &str) -> Result<()> {
        gone_is_done(self.neutron(cred, Method::DELETE, &format!("/v2.0/subnets/{}", encode(id)), None, "subnet").await)
    }

    async fn find_router(&self, cred: &ProviderCredential, name: &str) -> Result<Option<String>> {
        Ok(self.named(cred, "routers", name).await?.first().and_then(|r| r["id"].as_str().map(str::to_owned)))
    }

    async fn create_router(&self, cred: &ProviderCredential, name: &str, external_network_id: &str) -> Result<String> {
        let router = json!({"router": {"name": name, "external_gateway_info": {"network_id": external_network_id}}});
        let made = self.neutron(cred, Method::POST, "/v2.0/routers", Some(&router), "router").await?;
        id_of(&made, "router")
    }

    async fn delete_router(&self, cred: &ProviderCredential, id: &str) -> Result<()> {
        gone_is_done(self.neutron(cred, Method::DELETE, &format!("/v2.0/routers/{}", encode(id)), None, "router").await)
    }

    async fn has_interface(&self, cred: &ProviderCredential, router_id: &str, subnet_id: &str) -> Result<bool> {
        let path = format!("/v2.0/ports?device_id={}&device_owner=network%3Arouter_interface", encode(router_id));
        let ports = self.neutron(cred, Method::GET, &path, None, "router ports").await?;
        let on_subnet = |p: &Value| {
            p["fixed_ips"]
                .as_array()
                .is_some_and(|ips| ips.iter().any(|ip| ip["subnet_id"].as_str() == Some(subnet_id)))
        };
        Ok(ports["ports"].as_array().is_some_and(|ports| ports.iter().any(on_subnet)))
    }

    async fn add_interface(&self, cred: &ProviderCredential, router_id: &str, subnet_id: &str) -> Result<()> {
        let path = format!("/v2.0/routers/{}/add_router_interface", encode(router_id));
        self.neutron(cred, Method::PUT, &path, Some(&json!({"subnet_id": subnet_id})), "router interface")
            .await
            .map(drop)
    }

    async fn remove_interface(&self, cred: &ProviderCredential, router_id: &str, subnet_id: &str) -> Result<()> {
        let path = format!("/v2.0/routers/{}/remove_router_interface", encode(router_id));
        self.neutron(cred, Method::PUT, &path, Some(&json!({"subnet_id": subnet_id})), "router interface")
            .await
            .map(drop)
    }
}

//! A server's networking at the provider: its port (security groups, allowed source addresses)
//! and its public address, made to match the record. Every verb and the cleanup function use
//! these, so what "the server's networking converged" means is written once.
//!
//! The port is named after the server's record id (as Unikorn names it after the server), which
//! is how a port whose id was never stored (a crash, a lost answer) is found again; the public
//! address carries the record id as its description for the same reason.

use std::collections::HashMap;

use crate::domain::{Networking, SecurityGroupRecord, ServerRecord};
use crate::provider::{AllowedAddress, Networking as Neutron, PortSpec, ProviderCredential, ProviderPort, PublicIp};
use crate::provider::{ProviderError, Receipt, Result};
use crate::store::SecurityGroupStore;

/// The port a record asks for, on the given provider network, in the provider `groups` (none:
/// the project's default group, where Neutron puts a port made without groups).
pub(crate) fn wanted_port(record: &ServerRecord, provider_network: &str, groups: Vec<String>) -> PortSpec {
    let networking = record.networking.clone().unwrap_or_default();
    PortSpec {
        name: record.id.clone(),
        network_id: provider_network.to_owned(),
        security_groups: groups,
        allowed_addresses: allowed(&networking),
    }
}

fn allowed(networking: &Networking) -> Vec<AllowedAddress> {
    networking
        .sources()
        .iter()
        .map(|s| AllowedAddress {
            prefix: s.cidr.as_str().to_owned(),
            mac_address: s.mac_address.as_ref().map(|m| m.as_str().to_owned()),
        })
        .collect()
}

/// The provider groups of a record's port, each looked up at most once where it is needed (one
/// request, or one identity's networking pass of a cleanup run): the groups the record names
/// (their Neutron ids, from their records) and the project's default group.
#[derive(Debug, Default)]
pub(crate) struct PortGroups {
    default: Option<String>,
    named: HashMap<String, String>,
}

impl PortGroups {
    async fn default_id<P: Neutron>(&mut self, provider: &P, cred: &ProviderCredential) -> Result<String> {
        if let Some(id) = &self.default {
            return Ok(id.clone());
        }
        let id = provider.default_security_group(cred).await?.ok_or_else(|| ProviderError::Conflict {
            what: "security groups".into(),
            detail: "the project has no default security group".into(),
        })?;
        self.default = Some(id.clone());
        Ok(id)
    }

    /// The provider ids of the groups the record names (none named: empty).
    pub(crate) async fn named<S: SecurityGroupStore>(
        &mut self,
        store: &S,
        record: &ServerRecord,
    ) -> Result<Vec<String>> {
        let ids = record.networking.as_ref().map(Networking::groups).unwrap_or_default();
        let mut provider_ids = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(known) = self.named.get(id) {
                provider_ids.push(known.clone());
                continue;
            }
            let group = store
                .get_security_group(id)
                .await
                .map_err(|e| ProviderError::unavailable(format!("the table did not answer ({e})")))?;
            let made = group.and_then(|g| g.objects.group_id).ok_or_else(|| ProviderError::Conflict {
                what: "security groups".into(),
                detail: format!("security group {id} is not made at the provider"),
            })?;
            self.named.insert(id.clone(), made.clone());
            provider_ids.push(made);
        }
        Ok(provider_ids)
    }

    /// Knowing the project's default group already (a region-wide listing named it).
    pub(crate) fn with_default(default: Option<String>) -> Self {
        PortGroups { default, named: HashMap::new() }
    }

    /// Learns groups already read (a request's checks), so they are not read again.
    pub(crate) fn knowing(groups: &[SecurityGroupRecord]) -> Self {
        let named = groups.iter().filter_map(|g| Some((g.id.clone(), g.objects.group_id.clone()?))).collect();
        PortGroups { default: None, named }
    }

    /// The provider groups a record's port must be in: the ones it names or, naming none, the
    /// project's default group. Never empty: a port in no group at all would drop every packet,
    /// which no record asks for.
    pub(crate) async fn wanted<S: SecurityGroupStore, P: Neutron>(
        &mut self,
        (store, provider): (&S, &P),
        cred: &ProviderCredential,
        record: &ServerRecord,
    ) -> Result<Vec<String>> {
        let named = self.named(store, record).await?;
        if named.is_empty() {
            return Ok(vec![self.default_id(provider, cred).await?]);
        }
        Ok(named)
    }
}

/// Whether a port already has what a record asks for: exactly the `groups` (as
/// [`PortGroups::wanted`] resolves them) and exactly the record's allowed source addresses.
pub(crate) fn port_matches(port: &ProviderPort, groups: &[String], networking: Option<&Networking>) -> bool {
    let networking = networking.cloned().unwrap_or_default();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v.dedup();
        v
    };
    let groups_match = sorted(groups.to_vec()) == sorted(port.security_groups.clone());
    let pair = |a: &AllowedAddress| (a.prefix.clone(), a.mac_address.clone().unwrap_or_default());
    let mut want: Vec<_> = allowed(&networking).iter().map(pair).collect();
    let mut have: Vec<_> = port.allowed_addresses.iter().map(pair).collect();
    want.sort();
    have.sort();
    // A pair without a MAC is reported with the port's own.
    let own = port.mac_address.clone().unwrap_or_default();
    let have_plain: Vec<_> =
        have.iter().map(|(p, m)| (p.clone(), if *m == own { String::new() } else { m.clone() })).collect();
    groups_match && (want == have || want == have_plain)
}

/// The server's port, if it has one: the first port named after the record.
pub(crate) async fn find_port<P: Neutron>(
    provider: &P,
    cred: &ProviderCredential,
    server_id: &str,
) -> Result<Option<ProviderPort>> {
    Ok(provider.find_ports(cred, server_id).await?.into_iter().next())
}

/// Finds the server's port or makes it, then makes it match what the record asks for.
pub(crate) async fn ensure_port<S: SecurityGroupStore, P: Neutron>(
    (store, provider): (&S, &P),
    cred: &ProviderCredential,
    record: &ServerRecord,
    (provider_network, groups): (&str, &mut PortGroups),
) -> Result<(ProviderPort, Receipt)> {
    match find_port(provider, cred, &record.id).await? {
        None => {
            let named = groups.named(store, record).await?;
            provider.create_port(cred, &wanted_port(record, provider_network, named)).await
        }
        Some(port) => match align_port((store, provider), cred, record, &port, groups).await? {
            Some(updated) => Ok(updated),
            None => Ok((port, Receipt::default())),
        },
    }
}

/// Updates an existing port that drifted from what the record asks for (its groups, its allowed
/// source addresses); `None` when it already matches (nothing asked).
pub(crate) async fn align_port<S: SecurityGroupStore, P: Neutron>(
    (store, provider): (&S, &P),
    cred: &ProviderCredential,
    record: &ServerRecord,
    port: &ProviderPort,
    groups: &mut PortGroups,
) -> Result<Option<(ProviderPort, Receipt)>> {
    let wanted = groups.wanted((store, provider), cred, record).await?;
    if port_matches(port, &wanted, record.networking.as_ref()) {
        return Ok(None);
    }
    let allowed = allowed(&record.networking.clone().unwrap_or_default());
    provider.update_port(cred, &port.id, &wanted, &allowed).await.map(Some)
}

/// Gives the port a public address when the record asks for one and releases it when not.
/// Answers the public address the port now has. `external` is the network to allocate from, if
/// already looked up.
pub(crate) async fn converge_public_ip<P: Neutron>(
    provider: &P,
    cred: &ProviderCredential,
    record: &ServerRecord,
    port_id: &str,
    external: Option<String>,
) -> Result<Option<PublicIp>> {
    let have = provider.public_ips_of(cred, port_id).await?;
    let wanted = record.networking.as_ref().is_some_and(Networking::wants_public_ip);
    if !wanted {
        release_ips(provider, cred, &have).await?;
        return Ok(None);
    }
    if let Some(ip) = have.into_iter().next() {
        return Ok(Some(ip));
    }
    allocate(provider, cred, record, port_id, external).await.map(Some)
}

/// A new public address for the record's port, from `external`: the region's first offered
/// external network (none: the region offers none, a conflict the caller words).
pub(crate) async fn allocate<P: Neutron>(
    provider: &P,
    cred: &ProviderCredential,
    record: &ServerRecord,
    port_id: &str,
    external: Option<String>,
) -> Result<PublicIp> {
    let external = external.ok_or_else(|| ProviderError::Conflict {
        what: "public IP".into(),
        detail: "the region offers no external network".into(),
    })?;
    Ok(provider.create_public_ip(cred, &external, port_id, &record.id).await?.0)
}

/// Removes a server's networking, public addresses first (a port's removal would only unbind
/// them), then its port. Done once the provider server is gone; what is already gone is done.
pub(crate) async fn release<P: Neutron>(provider: &P, cred: &ProviderCredential, server_id: &str) -> Result<()> {
    for port in provider.find_ports(cred, server_id).await? {
        release_port(provider, cred, &port.id).await?;
    }
    Ok(())
}

/// Removes one port and the public addresses bound to it.
pub(crate) async fn release_port<P: Neutron>(provider: &P, cred: &ProviderCredential, port_id: &str) -> Result<()> {
    release_ips(provider, cred, &provider.public_ips_of(cred, port_id).await?).await?;
    ignore_missing(provider.delete_port(cred, port_id).await)
}

/// Releases these public addresses (one already gone counts as released).
pub(crate) async fn release_ips<P: Neutron>(provider: &P, cred: &ProviderCredential, ips: &[PublicIp]) -> Result<()> {
    for ip in ips {
        ignore_missing(provider.delete_public_ip(cred, &ip.id).await)?;
    }
    Ok(())
}

fn ignore_missing(result: Result<Receipt>) -> Result<()> {
    match result {
        Ok(_) | Err(ProviderError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AllowedSource, Cidr, MacAddress};

    fn networking(groups: &[&str], sources: &[(&str, Option<&str>)]) -> Networking {
        Networking {
            security_groups: Some(groups.iter().map(|g| g.to_string()).collect()),
            public_ip: None,
            allowed_source_addresses: Some(
                sources
                    .iter()
                    .map(|(c, m)| AllowedSource {
                        cidr: Cidr::parse("c", c).unwrap_or_else(|e| panic!("{e}")),
                        mac_address: m.map(|m| MacAddress::parse("m", m).unwrap_or_else(|e| panic!("{e}"))),
                    })
                    .collect(),
            ),
        }
    }

    fn port(groups: &[&str], pairs: &[(&str, &str)]) -> ProviderPort {
        ProviderPort {
            mac_address: Some("fa:16:3e:00:00:01".into()),
            security_groups: groups.iter().map(|g| g.to_string()).collect(),
            allowed_addresses: pairs
                .iter()
                .map(|(p, m)| AllowedAddress { prefix: p.to_string(), mac_address: Some(m.to_string()) })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_port_matches_when_groups_and_pairs_are_the_same_sets() {
        let want = networking(&["b", "a"], &[("10.0.0.0/8", None)]);
        let groups = want.groups().to_vec();
        let matches = |p: &ProviderPort, w: &Networking| port_matches(p, w.groups(), Some(w));
        assert!(matches(&port(&["a", "b"], &[("10.0.0.0/8", "fa:16:3e:00:00:01")]), &want));
        assert!(!matches(&port(&["a"], &[("10.0.0.0/8", "fa:16:3e:00:00:01")]), &want));
        assert!(!port_matches(&port(&["a", "b", "c"], &[("10.0.0.0/8", "fa:16:3e:00:00:01")]), &groups, Some(&want)));
        assert!(!matches(&port(&["a", "b"], &[]), &want));
        let other_mac = networking(&["a", "b"], &[("10.0.0.0/8", Some("fa:16:3e:00:00:09"))]);
        assert!(!matches(&port(&["a", "b"], &[("10.0.0.0/8", "fa:16:3e:00:00:01")]), &other_mac));
        assert!(matches(&port(&["a", "b"], &[("10.0.0.0/8", "fa:16:3e:00:00:09")]), &other_mac));
    }

    /// Regression: a port keeping a group the record no longer names passed as matching, so an
    /// update to no groups (or cleanup) never took it out of the group.
    #[test]
    fn no_groups_asked_for_means_exactly_the_default_group() {
        let default = vec!["default-id".to_owned()];
        assert!(port_matches(&port(&["default-id"], &[]), &default, None));
        assert!(!port_matches(&port(&["web"], &[]), &default, None), "a group left from before");
        assert!(!port_matches(&port(&["default-id", "web"], &[]), &default, None));
        let none = networking(&[], &[]);
        assert!(!port_matches(&port(&["web"], &[]), &default, Some(&none)));
        assert!(!port_matches(&port(&["default-id"], &[("10.0.0.0/8", "fa:16:3e:00:00:01")]), &default, None));
    }
}

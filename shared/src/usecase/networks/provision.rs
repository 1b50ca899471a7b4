//! Provisions a network at the provider, as Unikorn's identity and network controllers do, one
//! step at a time: its hidden identity (`identities::provision`), then the network's VLAN, Neutron
//! network, subnet, router and router interface. Each id is
//! recorded as soon as the provider answers; every step finds (by name) what an earlier attempt
//! made, so a run that crashed anywhere is completed by the next without making anything twice.

use super::teardown;
use crate::crash;
use crate::domain::provisioned::network_object_name;
use crate::domain::{NetworkRecord, Stage};
use crate::error::{Error, Result};
use crate::provider::fabric::{HostRoute, Segment, SubnetOptions, SubnetSpec};
use crate::provider::{Fabric, Networking, ProviderCredential, SecurityGroups};
use crate::store::{CatalogStore, NetworkStore, SecurityGroupStore, VlanStore};
use crate::usecase::identities::provision::{changed, IdentityRun, IdentityStores, Provides};
use crate::usecase::{Converged, Deps};

/// What the store needs for provisioning and teardown.
pub trait Provisioned: IdentityStores + NetworkStore + VlanStore + CatalogStore + SecurityGroupStore {}
impl<S: IdentityStores + NetworkStore + VlanStore + CatalogStore + SecurityGroupStore> Provisioned for S {}

/// What the provider needs (the external network is read from the region's catalogue; a
/// network's security groups go with it).
pub trait Builds: Provides + Fabric + Networking + SecurityGroups {}
impl<P: Provides + Fabric + Networking + SecurityGroups> Builds for P {}

/// Brings the network (and its hidden identity) to what its record says: provisioned, updated, or
/// taken down. A failure is recorded on the network (`error`, with the provider's reason) and
/// answered, so the worker's queue (or the cleanup function) runs it again.
pub async fn converge<S: Provisioned, P: Builds>(deps: &Deps<S, P>, network_id: &str) -> Result<Converged> {
    let Some(network) = deps.store.get_network(network_id).await? else { return Ok(Converged::Gone) };
    let Some(lifecycle) = network.lifecycle.clone() else { return Ok(Converged::Settled(network.stage())) };
    if lifecycle.stage == Stage::Deprovisioning {
        return teardown::run(deps, network).await;
    }
    if network.deleting_since.is_some() {
        // A v1 network marked deleting: its servers go first (the cleanup function), then its teardown.
        return Ok(Converged::Settled(Stage::Deprovisioning));
    }
    let identity = deps
        .store
        .get_identity(&network.identity_id)
        .await?
        .ok_or_else(|| Error::internal(format!("network {network_id}: its identity record is missing")))?;
    if network.parent_identity_id.is_some() && identity.lifecycle.as_ref().map(|l| l.stage) != Some(Stage::Provisioned)
    {
        // A v1 network waits for its identity's project; the identity hands it over once it is there.
        tracing::info!(network_id, identity_id = %identity.id, "network waits for its identity");
        return Ok(Converged::Settled(lifecycle.stage));
    }
    let fresh = lifecycle.stage == Stage::Pending;
    let mut run = Run { deps, network, identity: IdentityRun { deps, identity, fresh }, fresh };
    if lifecycle.stage != Stage::Provisioning {
        run.set_stage(Stage::Provisioning, None).await?;
    }
    match run.provision().await {
        Ok(()) => {
            run.set_stage(Stage::Provisioned, None).await?;
            tracing::info!(network_id, "network provisioned");
            hand_over_groups(deps, &run.network).await?;
            Ok(Converged::Settled(Stage::Provisioned))
        }
        // Someone changed the record meanwhile: its new version is worked on by the next run.
        Err(e @ Error::PreconditionFailed(_)) => Err(e),
        Err(e) => {
            let reason = e.public_description();
            tracing::warn!(network_id, error = %e, "network provisioning failed; it is retried");
            if let Err(write) = run.set_stage(Stage::Error, Some(reason)).await {
                tracing::info!(network_id, error = %write, "error not recorded on the network");
            }
            Err(e)
        }
    }
}

pub(super) struct Run<'a, S, P> {
    pub deps: &'a Deps<S, P>,
    pub network: NetworkRecord,
    /// Its hidden identity's run: provisioned first, in the same run.
    pub identity: IdentityRun<'a, S, P>,
    /// The first run of a network never started before (its `pending` record was written over by
    /// this run alone): nothing of it can exist at the provider, so nothing is looked for by name.
    fresh: bool,
}

impl<S: Provisioned, P: Builds> Run<'_, S, P> {
    /// Writes the network as `change` makes it, one version on.
    pub async fn save_network(&mut self, change: impl FnOnce(&mut NetworkRecord)) -> Result<()> {
        let mut next = self.network.clone();
        change(&mut next);
        next.version = self.network.version + 1;
        self.deps.store.replace_network(&next, self.network.version).await.map_err(changed)?;
        self.network = next;
        Ok(())
    }

    async fn set_stage(&mut self, stage: Stage, reason: Option<String>) -> Result<()> {
        let now = self.deps.clock.now();
        let Some(lifecycle) = self.network.lifecycle.clone() else { return Ok(()) };
        self.save_network(|n| n.lifecycle = Some(lifecycle.to(stage, reason, now))).await
    }

    /// The provider's object of that name, unless this is a fresh run (then none can exist).
    async fn found<T, F: std::future::Future<Output = crate::provider::Result<Option<T>>>>(
        &self,
        find: F,
    ) -> Result<Option<T>> {
        if self.fresh {
            return Ok(None);
        }
        Ok(find.await?)
    }

    async fn provision(&mut self) -> Result<()> {
        // A v2 network's hidden identity is its own to provision; a v1 identity is provisioned by
        // its own run (and is, by now).
        if self.network.parent_identity_id.is_none() {
            self.identity.provision().await?;
        }
        let project = self.identity.identity.objects.project_id.clone();
        if self.network.objects.project_id != project {
            self.save_network(|n| n.objects.project_id = project).await?;
        }
        self.provision_network().await
    }

    async fn provision_network(&mut self) -> Result<()> {
        let deps = self.deps;
        let region = self.network.region_id.clone();
        let cred = deps.regions.credential_in(&region, self.network.objects.project_id.as_deref())?;
        let name = network_object_name(&self.network.id);
        let segment = match deps.regions.openstack_of(&region).and_then(|o| o.provider_networks.clone()) {
            None => None,
            Some(physnet) => {
                let vlan = match self.network.objects.vlan_id {
                    Some(v) => v,
                    None => {
                        let claimed = deps
                            .store
                            .claim_vlan(&region, &physnet.physical_network, &physnet.segments, &self.network.id)
                            .await?
                            .ok_or_else(|| {
                                Error::unavailable(format!("region {region} has no VLAN left for a network"))
                            })?;
                        self.save_network(|n| n.objects.vlan_id = Some(claimed)).await?;
                        claimed
                    }
                };
                Some(Segment { physical_network: physnet.physical_network, vlan_id: vlan })
            }
        };
        if self.network.objects.network_id.is_none() {
            let made = match self.found(deps.provider.find_network(&cred, &name)).await? {
                Some(found) => found,
                None => deps.provider.create_network(&cred, &name, segment.as_ref()).await?,
            };
            deps.crash.hit(crash::PROVISION_AFTER_NETWORK);
            self.save_network(|n| {
                n.objects.network_id = Some(made.id.clone());
                n.provider_network_id = made.id.clone();
            })
            .await?;
        }
        let network_id = self.network.objects.network_id.clone().unwrap_or_default();
        self.subnet(&cred, &name, &network_id).await?;
        let subnet_id = self.network.objects.subnet_id.clone().unwrap_or_default();
        let router = match self.network.objects.router_id.clone() {
            Some(r) => r,
            None => {
                let router = match self.found(deps.provider.find_router(&cred, &name)).await? {
                    Some(found) => found,
                    None => {
                        let external = crate::usecase::catalog::external_networks(deps, &region).await?;
                        let first = external
                            .first()
                            .ok_or_else(|| Error::unavailable(format!("region {region} offers no external network")))?;
                        deps.provider.create_router(&cred, &name, &first.id).await?
                    }
                };
                deps.crash.hit(crash::PROVISION_AFTER_ROUTER);
                self.save_network(|n| n.objects.router_id = Some(router.clone())).await?;
                router
            }
        };
        if !self.network.objects.interface {
            let has = !self.fresh && deps.provider.has_interface(&cred, &router, &subnet_id).await?;
            if !has {
                deps.provider.add_interface(&cred, &router, &subnet_id).await?;
            }
            self.save_network(|n| n.objects.interface = true).await?;
        }
        Ok(())
    }

    /// Makes the subnet, or brings its nameservers and routes to the record's (a run after the
    /// first compares them: an update may have changed them).
    async fn subnet(&mut self, cred: &ProviderCredential, name: &str, network_id: &str) -> Result<()> {
        let deps = self.deps;
        let addressing = self
            .network
            .addressing
            .clone()
            .ok_or_else(|| Error::internal(format!("network {}: no addressing recorded", self.network.id)))?;
        let wanted = SubnetOptions {
            dns_nameservers: addressing.dns_nameservers.clone(),
            host_routes: addressing
                .routes
                .iter()
                .map(|r| HostRoute { destination: r.prefix.to_string(), nexthop: r.nexthop })
                .collect(),
        };
        let subnet = match self.found(deps.provider.find_subnet(cred, name)).await? {
            Some((id, serves)) => {
                if serves != wanted {
                    deps.provider.update_subnet(cred, &id, &wanted).await?;
                }
                id
            }
            None => {
                let layout = addressing.layout();
                let spec = SubnetSpec {
                    name: name.to_owned(),
                    network_id: network_id.to_owned(),
                    cidr: addressing.prefix.to_string(),
                    gateway: layout.gateway,
                    pool: layout.dhcp,
                    dns_nameservers: wanted.dns_nameservers,
                    host_routes: wanted.host_routes,
                };
                deps.provider.create_subnet(cred, &spec).await?
            }
        };
        deps.crash.hit(crash::PROVISION_AFTER_SUBNET);
        if self.network.objects.subnet_id.as_deref() == Some(subnet.as_str()) {
            return Ok(());
        }
        self.save_network(|n| n.objects.subnet_id = Some(subnet)).await
    }
}

/// The security groups made on a network before it was provisioned, which wait for its project,
/// go to the worker.
async fn hand_over_groups<S: Provisioned, P>(deps: &Deps<S, P>, network: &NetworkRecord) -> Result<()> {
    let query = crate::usecase::security_groups::groups_of(network);
    for group in deps.store.list_security_groups(&query).await? {
        if group.lifecycle.stage.unsettled() && !group.in_teardown() {
            crate::usecase::security_groups::hand_over(deps, &group.id).await;
        }
    }
    Ok(())
}

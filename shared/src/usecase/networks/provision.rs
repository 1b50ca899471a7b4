//! Provisions a network at the provider, as Unikorn's identity and network controllers do, one
//! step at a time: the hidden identity's project, the region user's role there, raised quotas, the
//! identity's user (its password recorded first), the user's roles and its application credential;
//! then the network's VLAN, Neutron network, subnet, router and router interface. Each id is
//! recorded as soon as the provider answers; every step finds (by name) what an earlier attempt
//! made, so a run that crashed anywhere is completed by the next without making anything twice.

use super::teardown;
use crate::crash;
use crate::domain::provisioned::{identity_object_name, network_object_name};
use crate::domain::{IdentityRecord, NetworkRecord, Stage};
use crate::error::{Error, Result};
use crate::provider::fabric::{HostRoute, Segment, SubnetOptions, SubnetSpec};
use crate::provider::tenancy::{ProjectSpec, UserSpec};
use crate::provider::{CredentialScope, Fabric, Keypairs, Networking, ProviderCredential, Tenancy};
use crate::store::{CatalogStore, IdentityStore, KeypairStore, NetworkStore, ProvisionStore, StoreError, VlanStore};
use crate::usecase::Deps;

/// What the store needs for provisioning and teardown.
pub trait Provisioned: NetworkStore + IdentityStore + ProvisionStore + VlanStore + CatalogStore + KeypairStore {}
impl<S: NetworkStore + IdentityStore + ProvisionStore + VlanStore + CatalogStore + KeypairStore> Provisioned for S {}

/// What the provider needs (the external network is read from the region's catalogue).
pub trait Builds: Tenancy + Fabric + Networking + Keypairs {}
impl<P: Tenancy + Fabric + Networking + Keypairs> Builds for P {}

/// Where a network ended up after one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Converged {
    /// Its record is gone (taken down, or never there).
    Gone,
    Settled(Stage),
}

/// The role the region's user takes in every project it makes (Unikorn's `manager`): what lets its
/// project-scoped token make the network and the servers there.
const MANAGER_ROLE: &str = "manager";

/// Brings the network (and its hidden identity) to what its record says: provisioned, updated, or
/// taken down. A failure is recorded on the network (`error`, with the provider's reason) and
/// answered, so the worker's queue (or the cleanup function) runs it again.
pub async fn converge<S: Provisioned, P: Builds>(deps: &Deps<S, P>, network_id: &str) -> Result<Converged> {
    let Some(network) = deps.store.get_network(network_id).await? else { return Ok(Converged::Gone) };
    let Some(lifecycle) = network.lifecycle.clone() else { return Ok(Converged::Settled(network.stage())) };
    if lifecycle.stage == Stage::Deprovisioning {
        return teardown::run(deps, network).await;
    }
    let identity = deps
        .store
        .get_identity(&network.identity_id)
        .await?
        .ok_or_else(|| Error::internal(format!("network {network_id}: its identity record is missing")))?;
    let fresh = lifecycle.stage == Stage::Pending;
    let mut run = Run { deps, network, identity, fresh };
    if lifecycle.stage != Stage::Provisioning {
        run.set_stage(Stage::Provisioning, None).await?;
    }
    match run.provision().await {
        Ok(()) => {
            run.set_stage(Stage::Provisioned, None).await?;
            tracing::info!(network_id, "network provisioned");
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
    pub identity: IdentityRecord,
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

    pub async fn save_identity(&mut self, change: impl FnOnce(&mut IdentityRecord)) -> Result<()> {
        let mut next = self.identity.clone();
        change(&mut next);
        next.version = self.identity.version + 1;
        self.deps.store.replace_identity(&next, self.identity.version).await.map_err(changed)?;
        self.identity = next;
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
        self.provision_identity().await?;
        let project = self.identity.objects.project_id.clone();
        if self.network.objects.project_id != project {
            self.save_network(|n| n.objects.project_id = project).await?;
        }
        self.provision_network().await
    }

    async fn provision_identity(&mut self) -> Result<()> {
        let deps = self.deps;
        let region = self.network.region_id.clone();
        let (domain, region_user) = deps.regions.domain_credential(&region)?;
        let CredentialScope::Domain(domain_id) = domain.scope.clone() else {
            return Err(Error::internal("a domain credential without a domain"));
        };
        let name = identity_object_name(&self.identity.id);
        let project = match self.identity.objects.project_id.clone() {
            Some(p) => p,
            None => {
                let project = match self.found(deps.provider.find_project(&domain, &name)).await? {
                    Some(found) => found,
                    None => {
                        let tags = vec![
                            format!("organization={}", self.identity.organization_id),
                            format!("project={}", self.identity.project_id),
                            deps.store.owner_tag(),
                        ];
                        let spec = ProjectSpec { name: name.clone(), domain_id: domain_id.clone(), tags };
                        deps.provider.create_project(&domain, &spec).await?
                    }
                };
                deps.crash.hit(crash::PROVISION_AFTER_PROJECT);
                self.save_identity(|i| i.objects.project_id = Some(project.clone())).await?;
                project
            }
        };
        // One role lookup for the region user's role and the identity user's (the first is Unikorn's
        // `manager`, the rest the region's cluster roles).
        let roles = deps.regions.openstack_of(&region).map(|o| o.cluster_roles.clone()).unwrap_or_default();
        let role_ids = if self.identity.objects.manager_role && self.identity.objects.user_roles {
            Vec::new()
        } else {
            let names: Vec<String> = std::iter::once(MANAGER_ROLE.to_owned()).chain(roles.iter().cloned()).collect();
            deps.provider.role_ids(&domain, &names).await?
        };
        if !self.identity.objects.manager_role {
            if let Some(manager) = role_ids.first() {
                deps.provider.assign_role(&domain, &project, &region_user, manager).await?;
            }
            self.save_identity(|i| i.objects.manager_role = true).await?;
        }
        if !self.identity.objects.quotas {
            let privileged = deps.regions.credential_in(&region, Some(&project))?;
            let raised = deps.provider.raise_quotas(&privileged, &project).await?;
            tracing::info!(identity_id = %self.identity.id, block_storage = raised.block_storage, "quotas raised");
            self.save_identity(|i| i.objects.quotas = true).await?;
        }
        let sealer = deps.sealer()?;
        let context = sealing_context(&self.identity.id);
        let password = match open_password(deps, &self.identity)? {
            Some(password) => password,
            None => {
                // Recorded before the user is made: whatever happens next, the password is known.
                let password = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
                let sealed = sealer.seal(password.as_bytes(), &context)?;
                self.save_identity(|i| i.objects.sealed_password = Some(sealed)).await?;
                password
            }
        };
        let user = match self.identity.objects.user_id.clone() {
            Some(u) => u,
            None => {
                let user = match self.found(deps.provider.find_user(&domain, &name)).await? {
                    Some(found) => {
                        // Made by an attempt that did not record it: it takes the recorded password.
                        deps.provider.set_password(&domain, &found, &password).await?;
                        found
                    }
                    None => {
                        let spec = UserSpec { name: name.clone(), domain_id, password: password.clone() };
                        deps.provider.create_user(&domain, &spec).await?
                    }
                };
                deps.crash.hit(crash::PROVISION_AFTER_USER);
                self.save_identity(|i| i.objects.user_id = Some(user.clone())).await?;
                user
            }
        };
        if !self.identity.objects.user_roles {
            for role in role_ids.iter().skip(1) {
                deps.provider.assign_role(&domain, &project, &user, role).await?;
            }
            self.save_identity(|i| i.objects.user_roles = true).await?;
        }
        if self.identity.objects.application_credential_id.is_none() {
            let as_user = user_credential(&domain.auth_url, &user, password, &project);
            let made = deps.provider.create_application_credential(&as_user, &name, &roles).await?;
            deps.crash.hit(crash::PROVISION_AFTER_CREDENTIAL);
            let sealed = sealer.seal(made.secret.as_bytes(), &context)?;
            self.save_identity(|i| {
                i.objects.application_credential_id = Some(made.id.clone());
                i.objects.sealed_application_credential_secret = Some(sealed);
            })
            .await?;
        }
        if self.identity.lifecycle.as_ref().is_some_and(|l| l.stage != Stage::Provisioned) {
            let now = deps.clock.now();
            self.save_identity(|i| i.lifecycle = i.lifecycle.as_ref().map(|l| l.to(Stage::Provisioned, None, now)))
                .await?;
        }
        Ok(())
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

/// What an identity's secrets are sealed to: a sealed value opens only for its own identity.
fn sealing_context(identity_id: &str) -> String {
    format!("identity:{identity_id}")
}

/// An identity's password, opened, where one is recorded.
pub(super) fn open_password<S, P>(deps: &Deps<S, P>, identity: &IdentityRecord) -> Result<Option<String>> {
    let Some(sealed) = &identity.objects.sealed_password else { return Ok(None) };
    let opened = deps.sealer()?.open(sealed, &sealing_context(&identity.id))?;
    String::from_utf8(opened).map(Some).map_err(|_| Error::internal("an identity's sealed password is not text"))
}

/// An identity's own user, by its password, in its project: what makes (and alone may revoke) its
/// application credential.
pub(super) fn user_credential(auth_url: &str, user: &str, password: String, project: &str) -> ProviderCredential {
    ProviderCredential {
        auth_url: auth_url.to_owned(),
        user_id: user.to_owned(),
        password,
        scope: CredentialScope::Project(project.to_owned()),
    }
}

/// A concurrent write is the caller's to retry (412 inside; never shown to a client).
fn changed(e: StoreError) -> Error {
    match e {
        StoreError::Changed(..) => Error::PreconditionFailed(format!("{e}")),
        other => other.into(),
    }
}

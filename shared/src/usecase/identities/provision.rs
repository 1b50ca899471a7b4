//! Provisions an identity at the provider, as Unikorn's identity controller does, one step at a
//! time: its project, the region user's role there, raised quotas, its user (the password recorded
//! first), the user's roles and its application credential; a v1 identity's also a server group
//! and the key pair `unikorn-openstack-provider` (what Unikorn hands out in `spec.openstack`). Each
//! id is recorded as soon as the provider answers; every step finds (by name) what an earlier
//! attempt made, so a run that crashed anywhere is completed by the next without making anything
//! twice. A v2 network's hidden identity is provisioned by its network's run; a v1 identity by
//! [`converge_identity`].

use crate::crash;
use crate::domain::provisioned::{identity_object_name, IDENTITY_KEYPAIR_NAME};
use crate::domain::{IdentityRecord, Stage};
use crate::error::{Error, Result};
use crate::provider::tenancy::{ProjectSpec, UserSpec};
use crate::provider::{CredentialScope, Keypairs, ProviderCredential, SecurityGroups, Tenancy};
use crate::store::{IdentityStore, KeypairStore, ProvisionStore, SecurityGroupStore, StoreError};
use crate::usecase::Deps;

/// What the store needs to provision an identity.
pub trait IdentityStores: IdentityStore + ProvisionStore + KeypairStore + SecurityGroupStore {}
impl<S: IdentityStore + ProvisionStore + KeypairStore + SecurityGroupStore> IdentityStores for S {}

/// What the provider needs to provision an identity.
pub trait Provides: Tenancy + Keypairs + SecurityGroups {}
impl<P: Tenancy + Keypairs + SecurityGroups> Provides for P {}

/// The role the region's user takes in every project it makes (Unikorn's `manager`): what lets its
/// project-scoped token make the network and the servers there.
const MANAGER_ROLE: &str = "manager";

/// Unikorn's server group policy where the region names none.
const DEFAULT_SERVER_GROUP_POLICY: &str = "soft-anti-affinity";

pub(crate) struct IdentityRun<'a, S, P> {
    pub deps: &'a Deps<S, P>,
    pub identity: IdentityRecord,
    /// The first run of an identity never started before: nothing of it can exist at the
    /// provider, so nothing is looked for by name.
    pub fresh: bool,
}

impl<S: IdentityStores, P: Provides> IdentityRun<'_, S, P> {
    /// Writes the identity as `change` makes it, one version on.
    pub async fn save(&mut self, change: impl FnOnce(&mut IdentityRecord)) -> Result<()> {
        let mut next = self.identity.clone();
        change(&mut next);
        next.version = self.identity.version + 1;
        self.deps.store.replace_identity(&next, self.identity.version).await.map_err(changed)?;
        self.identity = next;
        Ok(())
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

    /// Makes what is missing of the identity, then records it `provisioned`.
    pub async fn provision(&mut self) -> Result<()> {
        let deps = self.deps;
        let region = self.identity.region_id.clone();
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
                self.save(|i| i.objects.project_id = Some(project.clone())).await?;
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
            self.save(|i| i.objects.manager_role = true).await?;
        }
        if !self.identity.objects.quotas {
            let privileged = deps.regions.credential_in(&region, Some(&project))?;
            let raised = deps.provider.raise_quotas(&privileged, &project).await?;
            tracing::info!(identity_id = %self.identity.id, block_storage = raised.block_storage, "quotas raised");
            self.save(|i| i.objects.quotas = true).await?;
        }
        let sealer = deps.sealer()?;
        let context = sealing_context(&self.identity.id);
        let password = match open_password(deps, &self.identity)? {
            Some(password) => password,
            None => {
                // Recorded before the user is made: whatever happens next, the password is known.
                let password = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
                let sealed = sealer.seal(password.as_bytes(), &context)?;
                self.save(|i| i.objects.sealed_password = Some(sealed)).await?;
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
                self.save(|i| i.objects.user_id = Some(user.clone())).await?;
                user
            }
        };
        if !self.identity.objects.user_roles {
            for role in role_ids.iter().skip(1) {
                deps.provider.assign_role(&domain, &project, &user, role).await?;
            }
            self.save(|i| i.objects.user_roles = true).await?;
        }
        if self.identity.objects.application_credential_id.is_none() {
            let as_user = user_credential(&domain.auth_url, &user, password.clone(), &project);
            let made = deps.provider.create_application_credential(&as_user, &name, &roles).await?;
            deps.crash.hit(crash::PROVISION_AFTER_CREDENTIAL);
            let sealed = sealer.seal(made.secret.as_bytes(), &context)?;
            self.save(|i| {
                i.objects.application_credential_id = Some(made.id.clone());
                i.objects.sealed_application_credential_secret = Some(sealed);
            })
            .await?;
        }
        if !self.identity.hidden {
            let as_user = user_credential(&domain.auth_url, &user, password, &project);
            self.hand_out(&as_user).await?;
        }
        if self.identity.lifecycle.as_ref().is_some_and(|l| l.stage != Stage::Provisioned) {
            let now = deps.clock.now();
            self.save(|i| i.lifecycle = i.lifecycle.as_ref().map(|l| l.to(Stage::Provisioned, None, now))).await?;
        }
        Ok(())
    }

    /// What a v1 identity hands its consumer beside the credential: a server group and a key pair,
    /// made as the identity's own user (Nova key pairs belong to their user).
    async fn hand_out(&mut self, as_user: &ProviderCredential) -> Result<()> {
        let deps = self.deps;
        if self.identity.objects.server_group_id.is_none() {
            let name = identity_object_name(&self.identity.id);
            let policy = deps
                .regions
                .openstack_of(&self.identity.region_id)
                .map(|o| o.server_group_policy.clone())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| DEFAULT_SERVER_GROUP_POLICY.to_owned());
            let group = match self.found(deps.provider.find_server_group(as_user, &name)).await? {
                Some(found) => found,
                None => deps.provider.create_server_group(as_user, &name, &policy).await?,
            };
            self.save(|i| i.objects.server_group_id = Some(group)).await?;
        }
        if !self.identity.objects.keypair {
            let keypair = crate::usecase::keys::stored_keypair(deps, &self.identity.id).await?;
            crate::usecase::keys::register(deps, as_user, IDENTITY_KEYPAIR_NAME, &keypair.public_key).await?;
            self.save(|i| i.objects.keypair = true).await?;
        }
        Ok(())
    }
}

/// What an identity's secrets are sealed to: a sealed value opens only for its own identity.
pub(crate) fn sealing_context(identity_id: &str) -> String {
    format!("identity:{identity_id}")
}

/// An identity's password, opened, where one is recorded.
pub(crate) fn open_password<S, P>(deps: &Deps<S, P>, identity: &IdentityRecord) -> Result<Option<String>> {
    let Some(sealed) = &identity.objects.sealed_password else { return Ok(None) };
    let opened = deps.sealer()?.open(sealed, &sealing_context(&identity.id))?;
    String::from_utf8(opened).map(Some).map_err(|_| Error::internal("an identity's sealed password is not text"))
}

/// An identity's own user, by its password, in its project: what makes (and alone may revoke) its
/// application credential.
pub(crate) fn user_credential(auth_url: &str, user: &str, password: String, project: &str) -> ProviderCredential {
    ProviderCredential {
        auth_url: auth_url.to_owned(),
        user_id: user.to_owned(),
        password,
        scope: CredentialScope::Project(project.to_owned()),
    }
}

/// A concurrent write is the caller's to retry (412 inside; never shown to a client).
pub(crate) fn changed(e: StoreError) -> Error {
    match e {
        StoreError::Changed(..) => Error::PreconditionFailed(format!("{e}")),
        other => other.into(),
    }
}

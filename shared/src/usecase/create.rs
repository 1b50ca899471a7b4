use std::collections::BTreeMap;

use super::intent::{self, Answer, Steps};
use super::refresh::{provider_id, refresh};
use super::security_groups::check_named;
use super::server_port;
use super::steps::{check_networking, network_not_found, offered_image_and_flavor};
use super::Context;
use super::{remove_record, write_over, Deps, Placed, META_ORGANIZATION_ID, META_PROJECT_ID, META_SERVER_ID};
use crate::crash;
use crate::domain::cloud_init::{check_format, with_trusted_ca};
use crate::domain::lifecycle::on_create;
use crate::domain::{ActionError, ActionRef, Command, RequestKey, ServerState, NOVA_USER_DATA_CHARS, USER_DATA_LIMIT};
use crate::domain::{
    HealthStatus, NetworkRecord, Protection, ProvisioningStatus, ServerCreateInput, ServerRecord, SshCaRecord,
    SshInjection, UserData,
};
use crate::error::{Error, Result};
use crate::provider::{Attach, ProviderCredential, ProviderError, ProviderPort, PublicIp, ServerCreate};
use crate::provider::{Compute, Flavors, Images, Keypairs, Networking};
use crate::rbac::{Caller, Operation, SERVERS};
use crate::store::{CatalogStore, KeypairStore, NetworkStore, SecurityGroupStore, ServerStore, SshCaStore};
use crate::store::{ClaimRef, StoreError};

/// The SSH certificate authority a new server binds to: readable by the caller (404 otherwise, as
/// a missing one), in the server's organization and project (422), with user data cloud-init can
/// merge the CA into (422).
async fn bound_ca<S: SshCaStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    network: &NetworkRecord,
    id: &str,
    user_data: Option<&UserData>,
) -> Result<SshCaRecord> {
    let ca = super::sshcas::load(deps, cx, id, Operation::Read).await?;
    if ca.organization_id != network.organization_id || ca.project_id != network.project_id {
        return Err(Error::unprocessable(
            "sshCertificateAuthorityId must reference an SSH certificate authority in the same organization and project as the server",
        ));
    }
    if let Some(user_data) = user_data {
        check_format(user_data.bytes())?;
    }
    Ok(ca)
}

/// The network a new server goes on, checked: the view shows it, the caller may read it and create
/// servers in its project, it is not being deleted, and its project is still served.
async fn target_network<S: NetworkStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    network_id: &str,
) -> Result<NetworkRecord> {
    cx.view.check_path(&cx.caller, SERVERS, Operation::Create)?;
    let network = deps
        .store
        .get_network(network_id)
        .await?
        .filter(|n| cx.view.shows(n.placement()))
        .ok_or_else(|| network_not_found(network_id))?;
    let (org, project) = (&network.organization_id, &network.project_id);
    cx.view.authorize(
        &cx.caller,
        (org, project),
        cx.view.rules.networks,
        Operation::Read,
        network_not_found(network_id),
    )?;
    cx.caller.acl.require(org, Some(project), SERVERS, Operation::Create)?;
    if network.deleting_since.is_some() || network.stage() == crate::domain::Stage::Deprovisioning {
        return Err(Error::conflict(format!("network {network_id} is being deleted: it takes no new servers")));
    }
    if network.stage() != crate::domain::Stage::Provisioned {
        return Err(Error::conflict(format!(
            "network {network_id} is {}: servers go on it once it is provisioned",
            network.stage().as_str()
        )));
    }
    // A region the operator no longer serves takes no new servers.
    if deps.regions.openstack_of(&network.region_id).is_none() {
        return Err(Error::not_found(format!("no region found with id {}", network.region_id)));
    }
    Ok(network)
}

/// What Nova is asked for: our ids in its metadata, the key pair and the user data (merged with the
/// SSH certificate authority's managed part when one is bound).
pub(crate) fn provider_request(
    record: &ServerRecord,
    key_name: Option<String>,
    ca: Option<&SshCaRecord>,
) -> Result<ServerCreate> {
    let user_data = match ca {
        Some(ca) => Some(with_trusted_ca(record.user_data.as_ref().map(|u| u.bytes()), ca.public_key.as_str())?),
        None => record.user_data.as_ref().map(|u| u.bytes().to_vec()),
    };
    // What Nova receives is bounded, not only what the caller sent: the CA's merge adds to it.
    if let Some(merged) = user_data.as_ref().filter(|u| u.len().div_ceil(3) * 4 > NOVA_USER_DATA_CHARS) {
        return Err(Error::unprocessable(format!(
            "spec.userData: with the SSH certificate authority's part merged in it is {} bytes; \
             the provider takes at most {USER_DATA_LIMIT}",
            merged.len()
        )));
    }
    Ok(ServerCreate {
        name: record.name.to_string(),
        image_id: record.image_id.clone(),
        flavor_id: record.flavor_id.clone(),
        // The port is made first (see `create_server`).
        attach: Attach::Port(String::new()),
        metadata: BTreeMap::from([
            (META_SERVER_ID.to_owned(), record.id.clone()),
            (META_ORGANIZATION_ID.to_owned(), record.organization_id.clone()),
            (META_PROJECT_ID.to_owned(), record.project_id.clone()),
        ]),
        user_data,
        key_name,
    })
}

/// Creates a server on the network the input names, which the view must show (its version, and on
/// path-scoped routes the path's identity): organization, project, region and provider identity
/// are the network's.
pub async fn create_server<S, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    input: ServerCreateInput,
    request_key: Option<RequestKey>,
) -> Result<ServerRecord>
where
    S: ServerStore + NetworkStore + SshCaStore + KeypairStore + CatalogStore + SecurityGroupStore,
    P: Compute + Images + Flavors + Keypairs + Networking,
{
    let network = target_network(deps, cx, input.network_id.as_str()).await?;
    let ca = match &input.ssh_certificate_authority_id {
        Some(id) => Some(bound_ca(deps, cx, &network, id.as_str(), input.user_data.as_ref()).await?),
        None => None,
    };
    if input.ssh_injection == Some(SshInjection::Ca) && ca.is_none() {
        return Err(Error::unprocessable("spec.sshInjection: ca needs spec.sshCertificateAuthorityId"));
    }
    let cred = deps.regions.credential_in(&network.region_id, network.objects.project_id.as_deref())?;
    super::admit(deps, &network.organization_id).await?;
    // The catalogue's checks, the networking's and the groups', side by side: none waits for another.
    let place = (network.region_id.as_str(), network.organization_id.as_str());
    let (offered, external, groups) = tokio::join!(
        offered_image_and_flavor(deps, place, input.image_id.as_str(), input.flavor_id.as_str()),
        check_networking(deps, place.0, network.api_version, input.networking.as_ref()),
        check_named(deps, cx, &network, input.networking.as_ref(), &[])
    );
    let ((image, _), external, groups) = (offered?, external?, groups?);
    let group_ids = groups.into_iter().filter_map(|g| g.objects.group_id).collect();
    let mut record = new_record(deps, &cx.caller, &network, &input, image.size_gib);
    record.request_key = request_key;
    record.ssh_certificate_authority_id = ca.as_ref().map(|c| c.id.clone());
    let key_name = if record.has_identity_keypair() {
        Some(super::keys::ensure_keypair(deps, &cred, &network.identity_id).await?.keypair_name)
    } else {
        None
    };
    let mut request = provider_request(&record, key_name, ca.as_ref())?;
    // The record is the intent: it exists (provisioning, no provider id) before the provider is
    // asked, so whatever happens next, the cleanup function finds it and settles it.
    tracing::Span::current().record("server_id", record.id.as_str());
    if let Claimed::Earlier(first) = claim(deps, &network, &record).await? {
        // A retry of a keyed create whose outcome was unknown: the first attempt's server, as it stands.
        return Ok(refresh(deps, *first.clone()).await?.unwrap_or(*first));
    }
    // Port first (Unikorn's order): the server boots on it, so its security groups and allowed
    // source addresses hold from the first packet. The record id is new, so no port has its name
    // yet; one left by a crash after this is removed with the record (cleanup). A public address
    // binds to the port, not to the server: it is asked for beside the server, not after it.
    let spec = server_port::wanted_port(&record, &network.provider_network_id, group_ids);
    let wants_ip = record.networking.as_ref().is_some_and(crate::domain::Networking::wants_public_ip);
    let boot = async {
        let (port, _) = deps.provider.create_port(&cred, &spec).await?;
        deps.crash.hit(crash::CREATE_AFTER_PORT);
        request.attach = Attach::Port(port.id.clone());
        let address = async {
            match wants_ip {
                true => Some(server_port::allocate(&*deps.provider, &cred, &record, &port.id, external).await),
                false => None,
            }
        };
        let (server, address) = tokio::join!(deps.provider.create_server(&cred, &request), address);
        let (provider_id, receipt) = server?;
        Ok(((provider_id, port, address), receipt))
    };
    let steps = Steps { after_intent: crash::CREATE_AFTER_RECORD, after_provider: crash::CREATE_AFTER_PROVIDER };
    let answer = intent::enact(deps, steps, &record, boot).await;
    settle_create(deps, &cred, record, answer).await
}

/// What the record learns from the provider once its server exists.
#[derive(Default)]
struct Booted {
    provider_id: String,
    private_ip: Option<String>,
    mac_address: Option<String>,
    public_ip: Option<String>,
}

/// What the provider answered: the server, its port, and the public address asked for beside it.
type Boot = (String, ProviderPort, Option<crate::provider::Result<PublicIp>>);

/// The server is booting on its new port. A public address that could not be allocated leaves the
/// record asking for one, which the cleanup function's networking pass gives it.
fn booted((provider_id, port, address): Boot) -> Booted {
    let public_ip = match address {
        None => None,
        Some(Ok(ip)) => Some(ip.address),
        Some(Err(e)) => {
            tracing::warn!(error = %e, "public IP not allocated yet; the cleanup function allocates it");
            None
        }
    };
    Booted { provider_id, private_ip: port.private_ip, mac_address: port.mac_address, public_ip }
}

/// What the provider's answer to a create means for the record and the caller.
async fn settle_create<S: ServerStore, P: Compute + Networking>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    record: ServerRecord,
    answer: Answer<Boot>,
) -> Result<ServerRecord> {
    match answer {
        Answer::Accepted(server) => record_provider_id(deps, cred, record, booted(server)).await,
        // The provider may have created it anyway (a timeout or a dropped connection says nothing
        // about the outcome): look once; otherwise the cleanup function adopts or removes it.
        Answer::Unknown(message) => match provider_id(deps, &record).await {
            Ok(Some(provider_id)) => {
                record_provider_id(deps, cred, record, Booted { provider_id, ..Booted::default() }).await
            }
            _ => {
                tracing::warn!(error = %message, "the provider did not confirm the create; the cleanup function settles it");
                Err(Error::unavailable(format!(
                    "the provider did not confirm the creation of server {}: it is listed as provisioning \
                         until the platform has settled it ({message})",
                    record.id
                )))
            }
        },
        Answer::Refused(e) => {
            // A definite refusal: no server exists at the provider, so its port (if the refusal
            // came after it), the record and its name go. A port that outlives a failure here has
            // no record left: the cleanup function removes it.
            if let Err(port) = server_port::release(&*deps.provider, cred, &record.id).await {
                tracing::warn!(error = %port, "the port of a refused create was not removed; the cleanup function will");
            }
            forget(deps, &record, super::outcomes::action_error(&e)).await;
            // The provider refusing well-formed input is the caller's problem, not a bad request.
            Err(match e {
                ProviderError::Rejected { what, detail } => {
                    Error::unprocessable(format!("the provider rejected the request for {what}: {detail}"))
                }
                other => other.into(),
            })
        }
    }
}

/// Stores the provider id in the record, whatever happened to the record meanwhile: a delete that
/// arrived during the create is carried out now; a record already removed (its create outlived the
/// grace period) takes its provider server with it, and the caller is told.
async fn record_provider_id<S: ServerStore, P: Compute + Networking>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    record: ServerRecord,
    booted: Booted,
) -> Result<ServerRecord> {
    let id = record.id.clone();
    let provider_id = booted.provider_id.clone();
    let mut current = Some(record);
    for _ in 0..4 {
        let Some(base) = current.take() else { break };
        let mut next = base.clone();
        next.provider_id = Some(provider_id.clone());
        next.private_ip = booted.private_ip.clone().or(next.private_ip);
        next.mac_address = booted.mac_address.clone().or(next.mac_address);
        next.public_ip = booted.public_ip.clone().or(next.public_ip);
        match write_over(deps, &base, next).await {
            Ok(next) => {
                if next.is_deleting() {
                    // Deleted while it was being created: the delete could not reach the provider then.
                    if let Err(e) = deps.provider.delete_server(cred, &provider_id).await {
                        tracing::warn!(error = %e, "delete of a server deleted during its create failed; cleanup retries");
                    }
                }
                return Ok(next);
            }
            Err(StoreError::Changed(..)) => current = deps.store.get_server(&id).await?,
            Err(StoreError::Missing(..)) => break,
            Err(e) => {
                // The record (provisioning) stays; the cleanup function adopts the server by its metadata.
                tracing::warn!(error = %e, "could not store the provider id; the cleanup function adopts the server");
                return Ok(base);
            }
        }
    }
    if let Some(base) = deps.store.get_server(&id).await? {
        return Ok(base);
    }
    if let Err(e) = deps.provider.delete_server(cred, &provider_id).await {
        tracing::warn!(error = %e, "could not delete the server of a removed record; the cleanup function will");
    }
    Err(Error::conflict(format!("server {id} was removed while it was being created: create it again")))
}

/// Removes a record whose create the provider refused; if that fails, the record is one the
/// cleanup function removes once its grace period is over.
async fn forget<S: ServerStore, P>(deps: &Deps<S, P>, record: &ServerRecord, why: ActionError) {
    let current = match remove_record(deps, record, Some(Err(why.clone()))).await {
        Ok(_) => return,
        Err(StoreError::Changed(..)) => deps.store.get_server(&record.id).await,
        Err(e) => Err(e),
    };
    let result = match current {
        Ok(Some(current)) if current.provider_id.is_none() => {
            remove_record(deps, &current, Some(Err(why))).await.map(|_| ())
        }
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not remove the record of a refused create; the cleanup function will");
    }
}

fn new_record<S, P>(
    deps: &Deps<S, P>,
    caller: &Caller,
    network: &NetworkRecord,
    input: &ServerCreateInput,
    min_disk: u64,
) -> ServerRecord {
    ServerRecord {
        id: deps.ids.new_id(),
        api_version: network.api_version,
        name: input.metadata.name.clone(),
        description: input.metadata.description.clone(),
        tags: input.metadata.tags.clone(),
        organization_id: network.organization_id.clone(),
        project_id: network.project_id.clone(),
        region_id: network.region_id.clone(),
        network_id: network.id.clone(),
        identity_id: network.identity_id.clone(),
        provider_project_id: network.objects.project_id.clone(),
        parent_identity_id: network.parent_identity_id.clone(),
        flavor_id: input.flavor_id.as_str().to_owned(),
        image_id: input.image_id.as_str().to_owned(),
        image_min_disk_gib: min_disk,
        networking: input.networking.clone(),
        user_data: input.user_data.clone(),
        ssh_certificate_authority_id: None,
        ssh_injection: input.ssh_injection,
        infrastructure_ref: input.infrastructure_ref.clone(),
        created_by: caller.subject.clone(),
        creation_time: deps.clock.now(),
        modified_by: None,
        modified_time: None,
        deletion_time: None,
        provisioning_status: ProvisioningStatus::Provisioning,
        health_status: HealthStatus::Unknown,
        power_state: None,
        provider_id: None,
        private_ip: None,
        public_ip: None,
        mac_address: None,
        pending: None,
        provider_fault: None,
        booted: false,
        reschedules: 0,
        protection: Protection::default(),
        action: Some(ActionRef::start(Command::CreateServer, &caller.subject, deps.clock.now())),
        announced: Some(ServerState::Provisioning),
        request_key: None,
        version: 1,
    }
}

/// Writes the record and its name claim. A claim whose holder is gone (a stale claim), or is a
/// server whose deletion has finished at the provider, is released first; a live (or still dying)
/// holder keeps the name.
/// What claiming the name found.
enum Claimed {
    /// The record and its name are written: go on to the provider.
    New,
    /// The name is held by the server an earlier attempt with the same `Idempotency-Key` made.
    Earlier(Box<ServerRecord>),
}

async fn claim<S: ServerStore, P: Compute + Networking>(
    deps: &Deps<S, P>,
    network: &NetworkRecord,
    record: &ServerRecord,
) -> Result<Claimed> {
    let check_at = deps.clock.now() + deps.timing.grace;
    let effects = on_create(record, deps.clock.now());
    match deps.store.create_server(record, check_at, &effects).await {
        Err(taken @ StoreError::NameTaken { .. }) => {
            let Some(holder) = deps.store.claim_holder(&network.id, record.name.as_str()).await? else {
                deps.store.create_server(record, check_at, &effects).await?;
                return Ok(Claimed::New);
            };
            let released = match deps.store.get_server(&holder).await? {
                Some(first)
                    if record.request_key.is_some()
                        && first.request_key.as_ref().map(|k| &k.key)
                            == record.request_key.as_ref().map(|k| &k.key) =>
                {
                    if first.request_key != record.request_key {
                        return Err(Error::unprocessable(
                            "Idempotency-Key: this key was used with a different request body; use a new key",
                        ));
                    }
                    return Ok(Claimed::Earlier(Box::new(first)));
                }
                None => {
                    let stale =
                        ClaimRef { network_id: network.id.clone(), name: record.name.to_string(), server_id: holder };
                    deps.store.settle_claim(&stale, false).await?;
                    true
                }
                Some(dying) if dying.is_deleting() => refresh(deps, dying).await?.is_none(),
                Some(_) => false,
            };
            if released {
                deps.store.create_server(record, check_at, &effects).await?;
                Ok(Claimed::New)
            } else {
                Err(taken.into())
            }
        }
        other => {
            other?;
            Ok(Claimed::New)
        }
    }
}

//! What a v1 identity's read hands its consumer once it is provisioned (Unikorn's
//! `spec.openstack`): the application credential for a cloud config, the user, project and server
//! group, and the key pair's name and private key. Opened here, for holders of `region:identities`
//! read only (the caller's check is the read's own); the secrets are sealed at rest.

use super::provision::sealing_context;
use crate::domain::provisioned::IDENTITY_KEYPAIR_NAME;
use crate::domain::{IdentityRecord, Stage};
use crate::domain::{IdentityView, OpenStackAccess};
use crate::error::{Error, Result};
use crate::store::KeypairStore;
use crate::usecase::Deps;

/// The identity's access, where it is provisioned and every part is recorded.
pub(crate) async fn view<S: KeypairStore, P>(deps: &Deps<S, P>, record: IdentityRecord) -> Result<IdentityView> {
    let provisioned = record.lifecycle.as_ref().is_some_and(|l| l.stage == Stage::Provisioned);
    let o = &record.objects;
    let parts = (
        &o.application_credential_id,
        &o.sealed_application_credential_secret,
        &o.user_id,
        &o.project_id,
        &o.server_group_id,
    );
    let (Some(credential), Some(sealed), Some(user), Some(project), Some(group)) = parts else {
        return Ok(IdentityView { record, openstack: None });
    };
    if !provisioned || !o.keypair || record.deleting_since.is_some() {
        return Ok(IdentityView { record, openstack: None });
    }
    let sealer = deps.sealer()?;
    let secret = text(sealer.open(sealed, &sealing_context(&record.id))?)?;
    let keypair = deps
        .store
        .get_keypair(&record.id)
        .await?
        .ok_or_else(|| Error::internal(format!("identity {}: its key pair is not recorded", record.id)))?;
    let private_key = text(sealer.open(&keypair.sealed_private_key, &keypair.identity_id)?)?;
    let openstack = OpenStackAccess {
        auth_url: deps.regions.domain_credential(&record.region_id)?.0.auth_url,
        application_credential_id: credential.clone(),
        application_credential_secret: secret,
        user_id: user.clone(),
        project_id: project.clone(),
        server_group_id: group.clone(),
        ssh_key_name: IDENTITY_KEYPAIR_NAME.to_owned(),
        ssh_private_key: private_key,
    };
    Ok(IdentityView { record, openstack: Some(openstack) })
}

fn text(bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| Error::internal("a sealed secret is not text"))
}

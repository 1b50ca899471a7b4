//! `sshCertificateAuthorityV2Create` and `sshCertificateAuthorityV2Read`, as Unikorn's document
//! defines them.

use serde::{Deserialize, Serialize};

use crate::api::metadata::{ProjectScopedResourceReadMetadata, ResourceWriteMetadata};
use crate::domain::{ReferenceId, SshCaCreateInput, SshCaRecord, SshPublicKey};
use crate::error::{Error, Result};

/// Far above any real key (an RSA-16384 public key is about 2.8 KB in OpenSSH form).
pub const MAX_PUBLIC_KEY: usize = 16 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshCertificateAuthorityV2Create {
    pub metadata: ResourceWriteMetadata,
    pub spec: SshCertificateAuthorityV2CreateSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SshCertificateAuthorityV2CreateSpec {
    pub organization_id: String,
    pub project_id: String,
    pub public_key: String,
}

impl SshCertificateAuthorityV2Create {
    pub fn parse(self) -> Result<SshCaCreateInput> {
        if self.spec.public_key.len() > MAX_PUBLIC_KEY {
            return Err(Error::invalid(format!("spec.publicKey: longer than {MAX_PUBLIC_KEY} characters")));
        }
        Ok(SshCaCreateInput {
            metadata: self.metadata.parse()?,
            organization_id: ReferenceId::parse("spec.organizationId", &self.spec.organization_id)?,
            project_id: ReferenceId::parse("spec.projectId", &self.spec.project_id)?,
            public_key: SshPublicKey::parse(&self.spec.public_key)?,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SshCertificateAuthorityV2Read {
    pub metadata: ProjectScopedResourceReadMetadata,
    pub spec: SshCertificateAuthorityV2Spec,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SshCertificateAuthorityV2Spec {
    pub public_key: String,
}

impl From<&SshCaRecord> for SshCertificateAuthorityV2Read {
    fn from(r: &SshCaRecord) -> Self {
        SshCertificateAuthorityV2Read {
            metadata: ProjectScopedResourceReadMetadata::settled(r),
            spec: SshCertificateAuthorityV2Spec { public_key: r.public_key.as_str().to_owned() },
        }
    }
}

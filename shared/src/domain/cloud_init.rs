//! User data for servers bound to an SSH certificate authority, as Unikorn v1.16.6 builds it: the
//! user's document must be a format cloud-init recognises; it becomes one part (or keeps its parts,
//! if it is already multipart) of a `multipart/mixed` document, followed by a managed cloud-config
//! part that installs the CA as sshd's `TrustedUserCAKeys` and reloads sshd. Built with MIME and
//! YAML libraries, never by pasting strings.

use std::borrow::Cow;

use mail_builder::headers::content_type::ContentType;
use mail_builder::mime::{BodyPart, MimePart};
use serde::Serialize;

use crate::error::{Error, Result};

pub const CA_KEY_PATH: &str = "/etc/ssh/trusted-user-ca-keys.pub";
pub const SSHD_DROP_IN_PATH: &str = "/etc/ssh/sshd_config.d/90-unikorn-trusted-user-ca.conf";
pub const MANAGED_PART_FILENAME: &str = "unikorn-ssh-certificate-authority";
/// Works on both the `sshd` (RHEL family) and `ssh` (Debian family) unit names.
pub const RELOAD_SSHD: &str =
    "systemctl reload sshd || systemctl reload ssh || service ssh reload || service sshd reload || true";

/// The first-line markers cloud-init recognises, longest first (`#cloud-config-archive` before
/// `#cloud-config`), with the MIME type a part of that kind carries.
const FORMATS: &[(&str, &str)] = &[
    ("## template: jinja", "text/jinja2"),
    ("#cloud-config-archive", "text/cloud-config-archive"),
    ("#cloud-config", "text/cloud-config"),
    ("#cloud-boothook", "text/cloud-boothook"),
    ("#part-handler", "text/part-handler"),
    ("#include", "text/x-include-url"),
    ("#!", "text/x-shellscript"),
];

fn unrecognised() -> Error {
    Error::unprocessable("userData must be a recognized cloud-init format when sshCertificateAuthorityId is specified")
}

#[derive(Serialize)]
struct WriteFile<'a> {
    path: &'a str,
    owner: &'a str,
    permissions: &'a str,
    content: String,
}

#[derive(Serialize)]
struct CloudConfig<'a> {
    write_files: Vec<WriteFile<'a>>,
    runcmd: Vec<&'a str>,
}

/// The managed `#cloud-config` document for a CA public key.
pub fn managed_cloud_config(ca_public_key: &str) -> Result<String> {
    let config = CloudConfig {
        write_files: vec![
            WriteFile {
                path: CA_KEY_PATH,
                owner: "root:root",
                permissions: "0644",
                content: format!("{ca_public_key}\n"),
            },
            WriteFile {
                path: SSHD_DROP_IN_PATH,
                owner: "root:root",
                permissions: "0644",
                content: format!("TrustedUserCAKeys {CA_KEY_PATH}\n"),
            },
        ],
        runcmd: vec![RELOAD_SSHD],
    };
    let yaml = serde_yaml_ng::to_string(&config).map_err(|e| Error::internal(format!("cloud-config: {e}")))?;
    Ok(format!("#cloud-config\n{yaml}"))
}

/// 422 unless `user` is a document cloud-init recognises (multipart MIME or a known first line;
/// gzip is refused).
pub fn check_format(user: &[u8]) -> Result<()> {
    part_type(user).map(|_| ())
}

/// `None` for a multipart document, else the MIME type of its single part.
fn part_type(user: &[u8]) -> Result<Option<&'static str>> {
    if user.starts_with(&[0x1f, 0x8b]) {
        return Err(unrecognised());
    }
    let text = std::str::from_utf8(user).map_err(|_| unrecognised())?;
    let first = text.lines().next().unwrap_or_default().trim_end();
    if first.len() > 13 && first[..13].eq_ignore_ascii_case("content-type:") {
        let parsed = mailparse::parse_mail(user).map_err(|_| unrecognised())?;
        let multipart = parsed.ctype.mimetype.starts_with("multipart/") && parsed.ctype.params.contains_key("boundary");
        return if multipart { Ok(None) } else { Err(unrecognised()) };
    }
    FORMATS.iter().find(|(marker, _)| first.starts_with(marker)).map(|(_, t)| Some(*t)).ok_or_else(unrecognised)
}

/// A leaf part carrying `bytes` exactly: base64 transfer encoding (MIME lines of 76 characters),
/// so no line ending or byte of the user's content is rewritten on the way.
fn exact(content_type: ContentType<'static>, bytes: &[u8]) -> MimePart<'static> {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let lines: Vec<&str> = encoded.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    MimePart::new(content_type, BodyPart::Text(Cow::Owned(lines.join("\r\n")))).transfer_encoding("base64")
}

/// Rebuilds a parsed MIME part, keeping its type (with parameters), disposition and content.
fn rebuild(part: &mailparse::ParsedMail<'_>) -> Result<MimePart<'static>> {
    let mut content_type = ContentType::new(part.ctype.mimetype.clone());
    for (name, value) in &part.ctype.params {
        if name != "boundary" {
            content_type = content_type.attribute(name.clone(), value.clone());
        }
    }
    let mut rebuilt = if part.subparts.is_empty() {
        exact(content_type, &part.get_body_raw().map_err(|_| unrecognised())?)
    } else {
        MimePart::new(content_type, BodyPart::Multipart(part.subparts.iter().map(rebuild).collect::<Result<_>>()?))
    };
    if let Some(disposition) = part.headers.iter().find(|h| h.get_key_ref().eq_ignore_ascii_case("content-disposition"))
    {
        let value = disposition.get_value();
        let parsed = mailparse::parse_content_disposition(&value);
        match parsed.params.get("filename") {
            Some(name) => rebuilt = rebuilt.attachment(name.clone()),
            None if matches!(parsed.disposition, mailparse::DispositionType::Inline) => rebuilt = rebuilt.inline(),
            None => {}
        }
    }
    Ok(rebuilt)
}

/// What the provider receives: the user's document (if any) with the managed CA part appended.
pub fn with_trusted_ca(user: Option<&[u8]>, ca_public_key: &str) -> Result<Vec<u8>> {
    let managed = managed_cloud_config(ca_public_key)?;
    let Some(user) = user else { return Ok(managed.into_bytes()) };
    let mut parts = match part_type(user)? {
        None => {
            let parsed = mailparse::parse_mail(user).map_err(|_| unrecognised())?;
            parsed.subparts.iter().map(rebuild).collect::<Result<Vec<_>>>()?
        }
        Some(mime) => vec![exact(ContentType::new(mime), user).attachment("user-data")],
    };
    parts.push(
        MimePart::new(ContentType::new("text/cloud-config"), BodyPart::Text(Cow::Owned(managed)))
            .attachment(MANAGED_PART_FILENAME),
    );
    let mut out = b"MIME-Version: 1.0\r\n".to_vec();
    MimePart::new(ContentType::new("multipart/mixed"), BodyPart::Multipart(parts)).write_part(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognised_formats_and_refusals() {
        for ok in [&b"#cloud-config\nruncmd: []\n"[..], b"#!/bin/sh\necho hi\n", b"## template: jinja\n#cloud-config\n"]
        {
            assert!(check_format(ok).is_ok(), "{}", String::from_utf8_lossy(ok));
        }
        for bad in [&b"echo hello"[..], b"\x1f\x8b\x08\x00", b"", b"Content-Type: text/plain\n\nx"] {
            assert_eq!(check_format(bad).map_err(|e| e.status_and_code().0), Err(422), "{bad:?}");
        }
    }

    #[test]
    fn without_user_data_the_managed_config_is_sent_alone() {
        let text = String::from_utf8(with_trusted_ca(None, "ssh-ed25519 AAAA").unwrap_or_default()).unwrap_or_default();
        assert!(text.starts_with("#cloud-config\n"), "{text}");
        let parsed: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap_or_default();
        assert_eq!(parsed["write_files"][0]["path"], CA_KEY_PATH);
        assert_eq!(parsed["write_files"][0]["content"], "ssh-ed25519 AAAA\n");
        assert_eq!(parsed["runcmd"][0], RELOAD_SSHD);
    }

    #[test]
    fn a_script_becomes_a_part_beside_the_managed_one() {
        let merged = with_trusted_ca(Some(b"#!/bin/sh\necho hi\n"), "ssh-ed25519 AAAA").unwrap_or_default();
        let parsed = mailparse::parse_mail(&merged).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.ctype.mimetype, "multipart/mixed");
        let types: Vec<&str> = parsed.subparts.iter().map(|p| p.ctype.mimetype.as_str()).collect();
        assert_eq!(types, ["text/x-shellscript", "text/cloud-config"]);
        assert_eq!(parsed.subparts[0].get_body_raw().unwrap_or_default(), b"#!/bin/sh\necho hi\n");
    }
}

//! Client certificates: the subject's common name, which is who a service calling over mutual TLS
//! is (Unikorn's system accounts), read from a PEM certificate or from the subject DN API Gateway
//! reports for a certificate it verified.

use base64::Engine as _;

/// Certificates larger than this are not client certificates anyone sends.
const MAX_PEM: usize = 16 * 1024;
const COMMON_NAME_OID: &[u8] = &[0x55, 0x04, 0x03];

/// One DER element: its tag and contents, and what follows it.
fn element(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 3 || rest.len() < count {
            return None;
        }
        let len = rest[..count].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[count..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The DER bytes of the first certificate in a PEM document.
fn pem_der(pem: &str) -> Option<Vec<u8>> {
    if pem.len() > MAX_PEM {
        return None;
    }
    let start = pem.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = start + pem[start..].find("-----END CERTIFICATE-----")?;
    let body: String = pem[start..end].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// The subject's common name of a PEM certificate (the first CN of its subject), if it has one.
pub fn common_name_of_pem(pem: &str) -> Option<String> {
    let der = pem_der(pem)?;
    let (_, certificate, _) = element(&der).filter(|(tag, ..)| *tag == 0x30)?;
    let (_, tbs, _) = element(certificate).filter(|(tag, ..)| *tag == 0x30)?;
    let mut fields = tbs;
    // version [0] is optional; then serial, signature algorithm, issuer, validity, subject.
    if fields.first() == Some(&0xa0) {
        fields = element(fields)?.2;
    }
    for _ in 0..4 {
        fields = element(fields)?.2;
    }
    let (_, subject, _) = element(fields).filter(|(tag, ..)| *tag == 0x30)?;
    let mut rdns = subject;
    while !rdns.is_empty() {
        let (_, set, rest) = element(rdns)?;
        rdns = rest;
        let (_, attribute, _) = element(set)?;
        let (_, oid, value) = element(attribute).filter(|(tag, ..)| *tag == 0x06)?;
        if oid == COMMON_NAME_OID {
            let (_, text, _) = element(value)?;
            return String::from_utf8(text.to_vec()).ok().filter(|cn| !cn.is_empty());
        }
    }
    None
}

/// The common name in an RFC 4514 distinguished name (`CN=uni-compute,O=Nscale`), as API Gateway
/// reports a verified client certificate's `subjectDN`. Escaped characters (`\,`) are kept.
pub fn common_name_of_dn(dn: &str) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = dn.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ',' | '+' => parts.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    parts.push(current);
    parts.into_iter().find_map(|part| {
        let (key, value) = part.split_once('=')?;
        (key.trim().eq_ignore_ascii_case("CN") && !value.trim().is_empty()).then(|| value.trim().to_owned())
    })
}

/// Percent-decoding of a URL-encoded header value (Unikorn's ingress URL-encodes the PEM).
pub fn url_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A P-256 certificate for `/O=Test/CN=uni-compute`, issued by the test CA `tests/fixtures/mtls/ca.crt`.
    const CERT: &str = include_str!("../../../tests/fixtures/mtls/uni-compute.crt");

    #[test]
    fn the_common_name_comes_from_the_subject_not_the_issuer() {
        assert_eq!(common_name_of_pem(CERT).as_deref(), Some("uni-compute"));
        assert_eq!(common_name_of_pem("not a certificate"), None);
        assert_eq!(common_name_of_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"), None);
    }

    #[test]
    fn distinguished_names_yield_their_common_name() {
        assert_eq!(common_name_of_dn("CN=uni-compute,O=Nscale").as_deref(), Some("uni-compute"));
        assert_eq!(common_name_of_dn("O=Nscale, CN=a\\,b").as_deref(), Some("a,b"));
        assert_eq!(common_name_of_dn("O=Nscale"), None);
        assert_eq!(common_name_of_dn("CN="), None);
    }

    #[test]
    fn url_encoded_pem_decodes() {
        assert_eq!(url_decode("a%20b%0A").as_deref(), Some("a b\n"));
        assert_eq!(url_decode("%zz"), None);
    }
}

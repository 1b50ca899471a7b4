//! Small text helpers shared by the HTTP edge and the provider client.

/// Percent-encodes everything but RFC 3986 unreserved characters, so a value cannot escape the
/// path segment or query value it is put in.
pub fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Lower-case hexadecimal of `bytes` (digests in keys and fingerprints).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `%XX` escapes decoded (a `%` not followed by two hex digits is kept); `None` when the result is
/// not UTF-8.
pub fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_unreserved_characters_pass() {
        assert_eq!(super::percent_encode("a b/../c?d=é"), "a%20b%2F..%2Fc%3Fd%3D%C3%A9");
        assert_eq!(super::percent_encode("A-z_0.9~"), "A-z_0.9~");
        assert_eq!(super::percent_decode("a%2Fb%2f%zz%").as_deref(), Some("a/b/%zz%"));
        assert_eq!(super::percent_decode("%ff"), None);
    }

    #[test]
    fn hex_is_two_lower_case_digits_a_byte() {
        assert_eq!(super::hex(&[0, 0xab, 0x10]), "00ab10");
    }
}

//! Kubernetes quantities, as Unikorn's region configuration writes memory (`256Gi`, `512G`, `1.5Ti`,
//! plain bytes): binary suffixes Ki to Ei, decimal k to E, an optional fraction.

/// The bytes a quantity stands for, or why it does not parse.
pub fn bytes_of(quantity: &str) -> Result<u64, String> {
    let q = quantity.trim();
    let split = q.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(q.len());
    let (number, suffix) = q.split_at(split);
    let multiplier: f64 = match suffix {
        "" => 1.0,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        other => return Err(format!("'{quantity}': unknown suffix '{other}'")),
    };
    let value: f64 = number.parse().map_err(|_| format!("'{quantity}' is not a quantity such as 256Gi"))?;
    let bytes = value * multiplier;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("'{quantity}' is out of range"));
    }
    Ok(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::bytes_of;

    #[test]
    fn binary_decimal_and_fractional_quantities() {
        assert_eq!(bytes_of("256Gi"), Ok(256 << 30));
        assert_eq!(bytes_of("80Gi"), Ok(80 << 30));
        assert_eq!(bytes_of("1.5Ti"), Ok(3 << 39));
        assert_eq!(bytes_of("512G"), Ok(512_000_000_000));
        assert_eq!(bytes_of("4096"), Ok(4096));
        for bad in ["", "Gi", "12GB", "-1Gi", "1e9", "x"] {
            assert!(bytes_of(bad).is_err(), "{bad}");
        }
    }
}

//! Active Directory's `objectGUID`: 16 bytes on the wire, shown in the standard GUID text form
//! `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`. The first three groups are little-endian (AD stores
//! a Windows `GUID` struct), so the bytes `01 02 03 04 05 06 07 08 …` read
//! `04030201-0605-0807-…`: the same text `Get-ADUser` and `ldp.exe` show.

/// The text form of a 16-byte GUID, or `None` when the value is not 16 bytes.
pub(crate) fn to_text(bytes: &[u8]) -> Option<String> {
    let b: &[u8; 16] = bytes.try_into().ok()?;
    let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    let mut out = String::with_capacity(36);
    for (i, &at) in order.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push_str(&format!("{:02x}", b[at]));
    }
    Some(out)
}

/// The 16 bytes of a GUID in text form (with or without braces, any case), or `None`.
pub(crate) fn from_text(text: &str) -> Option<[u8; 16]> {
    let text = text.trim();
    let text = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    if groups.len() != 5 || groups.iter().zip(lengths).any(|(g, n)| g.len() != n) {
        return None;
    }
    let hex: String = groups.concat();
    let mut plain = [0u8; 16];
    for (i, byte) in plain.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    let mut out = [0u8; 16];
    for (i, &at) in order.iter().enumerate() {
        out[at] = plain[i];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_text_form_is_mixed_endian_like_windows_shows_it() {
        let bytes: Vec<u8> = (1..=16).collect();
        let text = to_text(&bytes).unwrap();
        assert_eq!(text, "04030201-0605-0807-090a-0b0c0d0e0f10");
        assert_eq!(from_text(&text).unwrap().to_vec(), bytes);
        assert_eq!(
            from_text("{04030201-0605-0807-090A-0B0C0D0E0F10}")
                .unwrap()
                .to_vec(),
            bytes
        );
        assert!(to_text(&bytes[..15]).is_none());
        for bad in [
            "",
            "04030201-0605-0807-090a",
            "0403020x-0605-0807-090a-0b0c0d0e0f10",
        ] {
            assert!(from_text(bad).is_none(), "{bad}");
        }
    }
}

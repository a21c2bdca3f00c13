//! The checksums that make a Headstart file whole: its header names the SHA-256 of every byte
//! after the header (`data_sha256`) and of the header itself (`header_sha256`, taken with its
//! own 64 hex digits written as zeros). One changed byte anywhere, in the header, a weight or a
//! photo, and the file is refused as damaged; files written before a format had checksums are
//! read as before, but only if they name none.

use sha2::{Digest, Sha256};
use std::ops::Range;

/// The metadata key of the SHA-256 of the bytes after the header.
pub const DATA_SHA256: &str = "data_sha256";

/// The metadata key of the SHA-256 of the header, taken with this value as zeros.
pub const HEADER_SHA256: &str = "header_sha256";

/// What `header_sha256` holds while the header is hashed.
pub const PLACEHOLDER: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A SHA-256 fed in pieces: the bytes after a header, part by part.
#[derive(Default, Clone)]
pub struct DataDigest(Sha256);

impl DataDigest {
    /// Adds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest of everything added, as 64 lowercase hex digits.
    pub fn finish(self) -> String {
        hex(&self.0.finalize())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the 64 digits of `header_sha256` are in a header's JSON: after `"header_sha256":"`,
/// which serde_json writes once, unescaped (a quote inside a string value is escaped).
fn own_sum_at(header: &[u8]) -> Option<Range<usize>> {
    let key = format!("\"{HEADER_SHA256}\":\"");
    let mut found = (header.windows(key.len()).enumerate())
        .filter(|(_, window)| *window == key.as_bytes())
        .map(|(at, _)| at + key.len());
    let start = found.next()?;
    let range = start..start + PLACEHOLDER.len();
    (found.next().is_none() && header.get(range.end) == Some(&b'"')).then_some(range)
}

/// The SHA-256 of a header with its own digits as zeros.
fn own_sum(header: &[u8], at: Range<usize>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(&header[..at.start]);
    hasher.update(PLACEHOLDER);
    hasher.update(&header[at.end..]);
    hex(&hasher.finalize())
}

/// Writes a header's own checksum into it: `header` (its JSON, padding included) names
/// `header_sha256` once, with 64 digits of any value ([`PLACEHOLDER`] as a writer puts it).
pub fn seal(header: &mut [u8]) {
    let at = own_sum_at(header).expect("the header names header_sha256 once");
    let sum = own_sum(header, at.clone());
    header[at].copy_from_slice(sum.as_bytes());
}

/// What the bytes after a header must be, as the header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integrity {
    /// A file from before its format had checksums: nothing to check them against.
    Unchecked,
    /// Their SHA-256, in hex.
    Sha256(String),
}

impl Integrity {
    /// Whether the bytes after the header, fed to `digest`, are the ones the header names.
    pub fn holds(&self, digest: DataDigest) -> bool {
        match self {
            Self::Unchecked => true,
            Self::Sha256(sum) => digest.finish() == *sum,
        }
    }
}

/// Why a header's checksums are not to be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumProblem {
    /// The header changed since it was written.
    Header,
    /// A file of a version with checksums names none, or an older one names some.
    Missing,
}

/// Checks a header's own checksum, if it names one (`field` reads its metadata; `header` is its
/// JSON), and says what the rest of the file must be. `checksummed` says whether its format
/// version has checksums.
pub fn check_header<'a>(
    header: &[u8],
    field: impl Fn(&str) -> Option<&'a str>,
    checksummed: bool,
) -> Result<Integrity, ChecksumProblem> {
    if let Some(own) = field(HEADER_SHA256) {
        let at = own_sum_at(header).ok_or(ChecksumProblem::Header)?;
        if own_sum(header, at) != own {
            return Err(ChecksumProblem::Header);
        }
    }
    match (field(HEADER_SHA256), field(DATA_SHA256)) {
        (Some(_), Some(data)) if checksummed => Ok(Integrity::Sha256(data.to_string())),
        (None, None) if !checksummed => Ok(Integrity::Unchecked),
        _ => Err(ChecksumProblem::Missing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(own: &str) -> Vec<u8> {
        format!(r#"{{"__metadata__":{{"{DATA_SHA256}":"ab","{HEADER_SHA256}":"{own}","x":"\"{HEADER_SHA256}\":\""}}}}   "#).into_bytes()
    }

    /// Checks `header` as a reader does, its metadata read by serde_json.
    fn check(header: &[u8], checksummed: bool) -> Result<Integrity, ChecksumProblem> {
        let value: serde_json::Value =
            serde_json::from_slice(header).map_err(|_| ChecksumProblem::Header)?;
        let metadata = &value["__metadata__"];
        check_header(header, |key| metadata[key].as_str(), checksummed)
    }

    #[test]
    fn a_sealed_header_checks_and_any_changed_byte_does_not() {
        let mut sealed = header(PLACEHOLDER);
        seal(&mut sealed);
        assert_ne!(sealed, header(PLACEHOLDER));
        let check = |bytes: &[u8]| check(bytes, true);
        assert_eq!(check(&sealed), Ok(Integrity::Sha256("ab".into())));
        // The escaped look-alike inside a string value is not taken for the key.
        for at in 0..sealed.len() {
            let mut changed = sealed.clone();
            changed[at] ^= 0x01;
            assert!(
                check(&changed) != Ok(Integrity::Sha256("ab".into())),
                "byte {at}"
            );
        }
    }

    #[test]
    fn files_from_before_checksums_name_none_and_later_ones_name_both() {
        let plain = br#"{"__metadata__":{"format":"x"}}"#;
        assert_eq!(check(plain, false), Ok(Integrity::Unchecked));
        assert_eq!(check(plain, true), Err(ChecksumProblem::Missing));
        let mut sealed = header(PLACEHOLDER);
        seal(&mut sealed);
        assert_eq!(check(&sealed, false), Err(ChecksumProblem::Missing));
        // A changed header is damage whatever its version says.
        let data_sum = sealed.windows(4).position(|w| w == b"\"ab\"").unwrap();
        sealed[data_sum + 1] ^= 0x01;
        assert_eq!(check(&sealed, false), Err(ChecksumProblem::Header));
    }

    #[test]
    fn the_data_holds_only_with_its_own_digest() {
        let mut digest = DataDigest::default();
        digest.update(b"ab");
        digest.update(b"c");
        // SHA-256 of "abc".
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(digest.clone().finish(), abc);
        assert!(Integrity::Sha256(abc.into()).holds(digest));
        let mut other = DataDigest::default();
        other.update(b"abd");
        assert!(!Integrity::Sha256(abc.into()).holds(other));
        assert!(Integrity::Unchecked.holds(DataDigest::default()));
    }
}

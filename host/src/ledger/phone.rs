//! Phone numbers are kept only as keyed hashes: HMAC-SHA256 under the server's phone key, so the
//! ledger can tell "the same number" without holding the number. Without the key a leaked
//! database cannot be reversed by hashing every possible mobile number (there are only 10^11).

use hmac::{KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = hmac::Hmac<Sha256>;

/// The fewest bytes a phone key may have: a short key could be guessed.
pub const MIN_KEY_BYTES: usize = 16;

/// The server's secret for hashing phone numbers.
#[derive(Clone)]
pub struct PhoneKey(Vec<u8>);

impl std::fmt::Debug for PhoneKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhoneKey(…)")
    }
}

impl PhoneKey {
    /// A key from its text (a file's content or an environment variable), surrounding
    /// whitespace ignored.
    pub fn new(secret: &str) -> Result<Self, String> {
        let secret = secret.trim();
        if secret.len() < MIN_KEY_BYTES {
            return Err(format!(
                "号码密钥太短：至少需要 {MIN_KEY_BYTES} 个字节，收到 {} 个 (the phone key needs at least {MIN_KEY_BYTES} bytes; e.g. `openssl rand -hex 32`)",
                secret.len()
            ));
        }
        Ok(PhoneKey(secret.as_bytes().to_vec()))
    }

    fn mac(&self, data: &[u8]) -> String {
        // HMAC takes a key of any length, so this cannot fail; an empty hash would only ever
        // be a wrong answer, never a leak.
        let Ok(mut mac) = HmacSha256::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(data);
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The keyed hash of a number, as stored: `h:` and 64 hex digits. Formatting is ignored
    /// (spaces, dashes, a +86 / 0086 country prefix), so 138-0013-8000 and +86 13800138000 are
    /// the same number.
    pub fn hash(&self, phone: &str) -> String {
        format!("h:{}", self.mac(canonical(phone).as_bytes()))
    }

    /// What is stored in the ledger to recognise the key again: a hash of a fixed label, so a
    /// server started with another key is refused instead of silently counting nothing.
    pub fn fingerprint(&self) -> String {
        self.mac(b"callguard ledger phone key check")
    }
}

/// The digits of a number without a mainland China country prefix; anything that is not a
/// digit is dropped. A value with no digits is kept as it is (trimmed), so it still compares.
pub fn canonical(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return phone.trim().to_string();
    }
    for prefix in ["0086", "86"] {
        if let Some(rest) = digits.strip_prefix(prefix) {
            if rest.len() == 11 && rest.starts_with('1') {
                return rest.to_string();
            }
        }
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_and_country_prefix_do_not_change_the_hash() {
        let key = PhoneKey::new("0123456789abcdef0123").unwrap();
        let plain = key.hash("13800138000");
        assert_eq!(key.hash("138-0013-8000"), plain);
        assert_eq!(key.hash("+86 138 0013 8000"), plain);
        assert_eq!(key.hash("008613800138000"), plain);
        assert_ne!(key.hash("13800138001"), plain);
        assert!(plain.starts_with("h:") && plain.len() == 66);
        assert!(!plain.contains("13800138000"));
    }

    #[test]
    fn another_key_gives_another_hash_and_fingerprint() {
        let a = PhoneKey::new("0123456789abcdef0123").unwrap();
        let b = PhoneKey::new("fedcba98765432100123").unwrap();
        assert_ne!(a.hash("13800138000"), b.hash("13800138000"));
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn a_short_key_is_refused_in_chinese() {
        let e = PhoneKey::new("short").unwrap_err();
        assert!(e.contains("号码密钥太短"), "{e}");
    }
}

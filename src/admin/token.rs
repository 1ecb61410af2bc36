//! Administrator tokens: 256 random bits shown once; the store keeps only their SHA-256.

use crate::domain::InputError;
use crate::store::{Store, StoreError};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// Prefix of every token, so that one found in a log or a file is recognisable.
pub const PREFIX: &str = "ancrage_";

/// Random bytes in a token.
const RANDOM_BYTES: usize = 32;

/// Longest token name, in characters.
pub const NAME_MAX: usize = 64;

/// Why a token operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The name breaks a rule.
    #[error("{0}")]
    Name(InputError),
    /// An active token already has this name.
    #[error("an active token is already named '{0}': revoke it first or choose another name")]
    Taken(String),
    /// No active token has this name.
    #[error("no active token is named '{0}'")]
    Unknown(String),
    /// The system's random number generator failed.
    #[error("cannot draw random bytes: {0}")]
    Random(getrandom::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Draws a new token: the prefix and 64 hexadecimal digits (256 bits from the system's
/// random number generator).
///
/// # Errors
/// When the system's random number generator fails.
pub fn generate() -> Result<String, TokenError> {
    let mut bytes = [0u8; RANDOM_BYTES];
    getrandom::fill(&mut bytes).map_err(TokenError::Random)?;
    Ok(format!("{PREFIX}{}", hex(&bytes)))
}

/// The SHA-256 of a token, 64 lowercase hexadecimal digits: what the store keeps.
#[must_use]
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Checks a token name: 1 to 64 letters, digits, `.`, `_`, `-` or `@`.
///
/// # Errors
/// Names the rule broken.
pub fn check_name(name: &str) -> Result<&str, InputError> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= NAME_MAX
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(name)
    } else {
        Err(InputError::new(
            "name",
            format!("1 to {NAME_MAX} letters, digits, '.', '_', '-' or '@'"),
        ))
    }
}

/// Creates a token for `name` and returns it: the only time it is ever seen.
///
/// # Errors
/// On a bad or taken name, a random number generator failure or a store error.
pub async fn create(store: &impl Store, name: &str) -> Result<String, TokenError> {
    let name = check_name(name).map_err(TokenError::Name)?;
    let token = generate()?;
    if store.create_token(name, &hash(&token)).await? {
        Ok(token)
    } else {
        Err(TokenError::Taken(name.to_owned()))
    }
}

/// Revokes the active token of `name`.
///
/// # Errors
/// When no active token has this name, or on a store error.
pub async fn revoke(store: &impl Store, name: &str) -> Result<(), TokenError> {
    if store.revoke_token(name.trim()).await? {
        Ok(())
    } else {
        Err(TokenError::Unknown(name.trim().to_owned()))
    }
}

/// The name of the active token presented as `token`, if any.
///
/// # Errors
/// On a store error.
pub async fn authenticate(store: &impl Store, token: &str) -> Result<Option<String>, StoreError> {
    let token = token.trim();
    if !token.starts_with(PREFIX) || token.len() != PREFIX.len() + 2 * RANDOM_BYTES {
        return Ok(None);
    }
    store.token_owner(&hash(token)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed_with_sha256() {
        let a = generate().expect("random");
        let b = generate().expect("random");
        assert_ne!(a, b);
        assert_eq!(a.len(), PREFIX.len() + 64);
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(hash(&a), a);
    }

    #[test]
    fn names_are_short_and_plain() {
        assert_eq!(check_name(" camille.m "), Ok("camille.m"));
        assert!(check_name("").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name(&"x".repeat(65)).is_err());
        assert!(check_name("<b>").is_err());
    }
}

//! SIRET establishment numbers.

use super::InputError;
use std::fmt;

/// A SIRET: 14 digits (SIREN of the legal unit + 5-digit establishment number) whose Luhn key
/// is valid. La Poste's establishments (SIREN 356 000 000) use a different key: the sum of the
/// digits is a multiple of 5.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Siret(String);

/// Whether the digits pass the Luhn check.
#[must_use]
pub fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl Siret {
    /// Parses a SIRET, ignoring spaces (`"356 000 000 00048"`).
    ///
    /// # Errors
    /// When it is not 14 digits or its check key is wrong.
    pub fn parse(field: &str, text: &str) -> Result<Self, InputError> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let b = compact.as_bytes();
        if b.len() != 14 || !b.iter().all(u8::is_ascii_digit) {
            return Err(InputError::new(field, "a SIRET is 14 digits"));
        }
        let la_poste = &compact[..9] == "356000000";
        let valid = if la_poste {
            b.iter().map(|d| u32::from(d - b'0')).sum::<u32>() % 5 == 0
        } else {
            luhn_valid(b)
        };
        if !valid {
            return Err(InputError::new(
                field,
                format!("'{compact}' fails the SIRET check key (Luhn)"),
            ));
        }
        Ok(Self(compact))
    }

    /// The 14 digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Siret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_keys() {
        assert!(Siret::parse("siret", "73282932000074").is_ok());
        assert!(Siret::parse("siret", "443 061 841 00047").is_ok());
        // La Poste: digit sum 3+5+6+1 = 15, a multiple of 5, although the Luhn key fails.
        assert!(Siret::parse("siret", "35600000000001").is_ok());
        assert!(!luhn_valid(b"35600000000001"));
    }

    #[test]
    fn rejects_wrong_key_and_shape() {
        assert!(
            Siret::parse("siret", "73282932000075")
                .expect_err("key")
                .rule
                .contains("Luhn")
        );
        assert!(
            Siret::parse("siret", "1234")
                .expect_err("len")
                .rule
                .contains("14 digits")
        );
        assert!(Siret::parse("siret", "1200020110004A").is_err());
    }
}

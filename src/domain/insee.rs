//! INSEE commune codes (Code officiel géographique).

use super::InputError;
use std::fmt;

/// A commune code of the Code officiel géographique: five characters, the first two being the
/// département (`01`–`95` but not `20`, `2A`, `2B`) followed by three digits, or `97x` followed by two
/// digits overseas (Guadeloupe `971`, Martinique `972`, Guyane `973`, La Réunion `974`,
/// Saint-Pierre-et-Miquelon `975`, Mayotte `976`, Saint-Barthélemy `977`, Saint-Martin `978`), or
/// `98x` for the Pacific collectivités. Municipal arrondissements of Paris, Lyon and Marseille
/// (`75101`, `69381`, `13201`…) have the same shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InseeCode(String);

impl InseeCode {
    /// Parses a code, accepting lower-case `2a`/`2b`.
    ///
    /// # Errors
    /// When the text is not a well-formed commune code.
    pub fn parse(field: &str, text: &str) -> Result<Self, InputError> {
        let t = text.trim().to_ascii_uppercase();
        let b = t.as_bytes();
        let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        let ok = b.len() == 5
            && match &b[..2] {
                b"2A" | b"2B" => digits(&b[2..]),
                b"20" | b"00" => false,
                b"97" | b"98" => digits(&b[2..]),
                two => digits(two) && digits(&b[2..]),
            };
        if ok {
            Ok(Self(t))
        } else {
            Err(InputError::new(
                field,
                format!(
                    "'{text}' is not an INSEE commune code (five characters such as 44109, 2A004 or 97411)"
                ),
            ))
        }
    }

    /// The code as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InseeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_metropole_corsica_overseas_and_arrondissements() {
        for c in [
            "44109", "01001", "2A004", "2b033", "97411", "97611", "97502", "75112", "13201",
        ] {
            assert!(InseeCode::parse("commune", c).is_ok(), "{c}");
        }
        assert_eq!(
            InseeCode::parse("c", "2b033").map(|c| c.to_string()),
            Ok("2B033".into())
        );
    }

    #[test]
    fn rejects_malformed_codes() {
        for c in ["4410", "441090", "20001", "2C001", "ABCDE", "00123", ""] {
            let e = InseeCode::parse("commune", c).expect_err(c);
            assert_eq!(e.field, "commune");
        }
    }
}

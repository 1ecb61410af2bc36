//! Data in: import formats, the shared validation of actors, geocoding, and the import run
//! (one transaction, progress, report and rejects file).

pub mod draft;
pub mod formats;
pub mod geocode;
pub mod mapping;
pub mod progress;
pub mod run;
pub mod textio;

pub use draft::{ActorDraft, DraftError, Strictness, Validated, Validator};

/// One item read from an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A record to validate and store.
    Record {
        /// Line (CSV, counting the header as line 1) or position (JSON, from 1) in the input.
        line: u64,
        /// Its raw values.
        draft: Box<ActorDraft>,
        /// Problems the reader noticed and worked around (kept as warnings).
        notes: Vec<String>,
    },
    /// A record that cannot be read as an actor: reported in the rejects file.
    Reject {
        /// Where.
        line: u64,
        /// Its identifier in the source, when known.
        source_ref: Option<String>,
        /// Why, in plain words.
        reason: String,
    },
    /// A record left out on purpose (SIRENE: not ESS, closed, a natural person…): counted by
    /// reason, not an error.
    Skip(&'static str),
}

/// A reading failure that stops the import: unreadable file, missing column, malformed JSON.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputFailure(pub String);

impl InputFailure {
    /// A failure about a file.
    pub fn file(path: &std::path::Path, problem: impl std::fmt::Display) -> Self {
        Self(format!("{}: {problem}", path.display()))
    }
}

/// Where a reader pushes its items; an `Err` back means "stop reading" (the import failed
/// or was interrupted).
pub type Sink<'a> = &'a mut dyn FnMut(Item) -> Result<(), InputFailure>;

/// FNV-1a 64 of some bytes, in hex: stable across builds and platforms, for change detection.
#[must_use]
pub fn stable_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

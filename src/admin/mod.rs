//! Administration: tokens of administrators, the editable values of an actor and their
//! changes, and the audited operations behind the administration API and the moderation of
//! public contributions.
//!
//! Every operation validates with the import's [`Validator`](crate::ingest::Validator) in
//! strict mode, so an administrator, a contributor and an import accept and refuse the same
//! values.

pub mod actions;
pub mod token;
pub mod values;

pub use actions::AdminError;

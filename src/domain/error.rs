//! The one error type for invalid input: which field, which rule, and the value seen.

use std::fmt;

/// A request value that broke a rule. Rendered as a `400`/`422` problem+json by the routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The request field (query parameter, path segment or JSON pointer) that was wrong.
    pub field: String,
    /// The rule it broke, in plain words (English; the API is for developers).
    pub rule: String,
}

impl InputError {
    /// Builds an error for `field` that broke `rule`.
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

impl std::error::Error for InputError {}

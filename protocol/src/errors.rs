//! Error codes carried by `error` frames.
//!
//! Codes are stable strings on the wire (`"bad_frame"`); a client matches on them, never on
//! the human-readable message. [`ErrorCode::is_temporary`] says whether retrying the same
//! request later may succeed.

use serde::{Deserialize, Serialize};

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame was not valid JSON, or not a JSON object.
    BadFrame,
    /// The frame's `type` is not one this protocol version knows.
    UnknownType,
    /// A field is missing, has the wrong type, or an unknown field is present.
    InvalidField,
    /// The server failed; the request may be retried.
    Internal,
}

impl ErrorCode {
    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [ErrorCode; 4] = [
        ErrorCode::BadFrame,
        ErrorCode::UnknownType,
        ErrorCode::InvalidField,
        ErrorCode::Internal,
    ];

    /// The wire name of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::Internal => "internal",
        }
    }

    /// Whether the same request may succeed if sent again later.
    pub fn is_temporary(self) -> bool {
        matches!(self, ErrorCode::Internal)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}

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
    /// A field is missing, has the wrong type or an invalid value, or an unknown field is
    /// present.
    InvalidField,
    /// The user may not do this (e.g. read a private room they are not a member of).
    Forbidden,
    /// The room, message or user does not exist.
    NotFound,
    /// Only the author may edit or delete a message.
    NotAuthor,
    /// The message was deleted.
    Deleted,
    /// The request needs a subscription to the room first.
    NotSubscribed,
    /// The connection already has the most rooms it may subscribe to.
    TooManyRooms,
    /// Too many requests; slow down (the message says for how long).
    RateLimited,
    /// The store is unreachable; retry later. A write that failed during the commit may
    /// still have been stored: retried with the same `client_msg_id`, it is acked once.
    Unavailable,
    /// The server failed; the request may be retried.
    Internal,
    /// An upload is larger than the server takes (`--max-upload-bytes`).
    TooLarge,
    /// An upload is not what it must be: an image that cannot be decoded, or one too big
    /// in pixels to decode safely.
    BadFile,
}

impl ErrorCode {
    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::BadFrame,
        ErrorCode::UnknownType,
        ErrorCode::InvalidField,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::NotAuthor,
        ErrorCode::Deleted,
        ErrorCode::NotSubscribed,
        ErrorCode::TooManyRooms,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
        ErrorCode::TooLarge,
        ErrorCode::BadFile,
    ];

    /// The wire name of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::NotAuthor => "not_author",
            ErrorCode::Deleted => "deleted",
            ErrorCode::NotSubscribed => "not_subscribed",
            ErrorCode::TooManyRooms => "too_many_rooms",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::BadFile => "bad_file",
        }
    }

    /// The HTTP status that carries this code where a request is answered over HTTP (the
    /// one place where that mapping lives).
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadFrame | ErrorCode::UnknownType | ErrorCode::InvalidField => 400,
            ErrorCode::Forbidden | ErrorCode::NotAuthor => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Deleted => 410,
            ErrorCode::NotSubscribed | ErrorCode::TooManyRooms => 409,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
            ErrorCode::TooLarge => 413,
            ErrorCode::BadFile => 422,
        }
    }

    /// Whether the same request may succeed if sent again later.
    pub fn is_temporary(self) -> bool {
        matches!(
            self,
            ErrorCode::RateLimited | ErrorCode::Unavailable | ErrorCode::Internal
        )
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
    fn statuses_are_errors_and_temporary_codes_are_retryable_statuses() {
        for code in ErrorCode::ALL {
            let status = code.http_status();
            assert!((400..600).contains(&status), "{code}: {status}");
            if code.is_temporary() {
                assert!(status == 429 || status >= 500, "{code}: {status}");
            }
        }
    }

    #[test]
    fn wire_names_match_serde() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}

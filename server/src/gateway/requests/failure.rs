//! A request's failure, as sent in an `error` frame. Store and write errors become one
//! through the store's own mapping ([`store::StoreError::client_error`],
//! [`store::WriteError::client_error`]); the rest are the gateway's own refusals.

use protocol::{ErrorCode, ReqId, ServerFrame};
use store::StoreError;
use store::error::UNAVAILABLE_MESSAGE;
use store::group_commit::WriteFailure;

/// A request's failure.
#[derive(Debug)]
pub struct Failure {
    pub(super) code: ErrorCode,
    message: String,
}

/// A failure with `code` and `message`.
pub fn fail(code: ErrorCode, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

/// The `error` frame answering request `req`.
pub fn error(req: ReqId, f: Failure) -> ServerFrame {
    ServerFrame::Error {
        req: Some(req),
        code: f.code,
        message: f.message,
    }
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Failure {
        let (code, message) = err.client_error();
        if matches!(code, ErrorCode::Unavailable | ErrorCode::Internal) {
            tracing::warn!(cause = %err, "store failed");
        }
        fail(code, message)
    }
}

impl From<WriteFailure> for Failure {
    fn from(err: WriteFailure) -> Failure {
        match err {
            WriteFailure::Refused(refusal) => {
                let (code, message) = refusal.client_error();
                fail(code, message)
            }
            WriteFailure::Store(_) => fail(ErrorCode::Unavailable, UNAVAILABLE_MESSAGE),
            WriteFailure::Stopped => fail(
                ErrorCode::Unavailable,
                "the server is stopping; retry on another connection",
            ),
        }
    }
}

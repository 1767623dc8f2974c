//! Why a request to one of our JSON endpoints beside the socket (files, invite links) was
//! refused: each variant has one protocol code, and its HTTP status is that code's
//! ([`ErrorCode::http_status`], the one mapping); refused credentials answer as the event
//! streams do. The body is `{"code": …, "message": …}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use protocol::ErrorCode;
use store::StoreError;

use crate::gateway::auth::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("sign in, or send an API token as `Authorization: Bearer …`")]
    Unauthorized,
    #[error("the session cookie may only be used by this site's own pages")]
    ForeignOrigin,
    /// No such file, or not one the asker may read (the same answer: ids tell nothing).
    #[error("there is no such file")]
    NoSuchFile,
    #[error("there is no such room")]
    NoSuchRoom,
    /// No such person, or they have no avatar picture.
    #[error("there is no such avatar")]
    NoAvatar,
    #[error("only members of the room may share files in it")]
    NotAMember,
    /// Refused by the Store's rules, with its reason.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("`room` must be a room id and `name` a file name")]
    BadQuery,
    #[error("a file may be at most {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("an upload must not be empty")]
    Empty,
    #[error("{0}")]
    BadImage(&'static str),
    #[error("the service is unavailable; retry shortly")]
    Unavailable,
}

impl HttpError {
    /// The protocol code of the refusal; `None` for the two refusals of the credentials
    /// themselves, which answer as the event streams do (`unauthorized`,
    /// `forbidden_origin`).
    pub fn protocol_code(&self) -> Option<ErrorCode> {
        Some(match self {
            HttpError::Unauthorized | HttpError::ForeignOrigin => return None,
            HttpError::NotAMember | HttpError::Forbidden(_) => ErrorCode::Forbidden,
            HttpError::NoSuchFile | HttpError::NoSuchRoom | HttpError::NoAvatar => {
                ErrorCode::NotFound
            }
            HttpError::BadQuery | HttpError::Empty => ErrorCode::InvalidField,
            HttpError::TooLarge { .. } => ErrorCode::TooLarge,
            HttpError::BadImage(_) => ErrorCode::BadFile,
            HttpError::Unavailable => ErrorCode::Unavailable,
        })
    }

    /// The HTTP status (the protocol code's, [`ErrorCode::http_status`]) and the code of
    /// the JSON body.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match (self, self.protocol_code()) {
            (_, Some(code)) => (
                StatusCode::from_u16(code.http_status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                code.as_str(),
            ),
            (HttpError::ForeignOrigin, None) => (StatusCode::FORBIDDEN, "forbidden_origin"),
            (_, None) => (StatusCode::UNAUTHORIZED, "unauthorized"),
        }
    }
}

impl From<Refusal> for HttpError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Unauthorized => HttpError::Unauthorized,
            Refusal::ForeignOrigin => HttpError::ForeignOrigin,
            Refusal::Unavailable | Refusal::TooManyConnections => HttpError::Unavailable,
        }
    }
}

impl From<StoreError> for HttpError {
    fn from(err: StoreError) -> Self {
        tracing::warn!(cause = %err, "request: store failed");
        HttpError::Unavailable
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = serde_json::json!({"code": code, "message": self.to_string()});
        (status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_has_the_status_of_its_code() {
        let cases = [
            (HttpError::Unauthorized, 401, "unauthorized"),
            (HttpError::ForeignOrigin, 403, "forbidden_origin"),
            (HttpError::NoSuchFile, 404, "not_found"),
            (HttpError::NotAMember, 403, "forbidden"),
            (HttpError::TooLarge { limit: 1 }, 413, "too_large"),
            (HttpError::BadImage("x"), 422, "bad_file"),
            (HttpError::BadQuery, 400, "invalid_field"),
            (HttpError::Unavailable, 503, "unavailable"),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status_and_code().0.as_u16(), status, "{err}");
            assert_eq!(err.status_and_code().1, code, "{err}");
        }
    }
}

//! Frame types: what a client may send and what the server sends back.
//!
//! Requests carry a client-chosen `req` id; the server answers each request exactly once,
//! with the matching reply (`pong` for `ping`) or an `error` frame carrying the same `req`.

use serde::{Deserialize, Serialize};

use crate::errors::ErrorCode;

/// A client-chosen request id, echoed in the reply to that request.
pub type ReqId = u64;

/// A frame sent by a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Application-level heartbeat; answered by [`ServerFrame::Pong`].
    Ping { req: ReqId },
}

impl ClientFrame {
    /// The request id of this frame.
    pub fn req(&self) -> ReqId {
        match self {
            ClientFrame::Ping { req } => *req,
        }
    }
}

/// A frame sent by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame on every connection, sent right after the upgrade.
    Welcome {
        /// Protocol version in use (the negotiated subprotocol).
        protocol: String,
        /// Server-assigned id of this connection, for support and logs.
        conn_id: String,
        /// The client should send a `ping` at least this often (milliseconds); the server
        /// closes a connection that stays silent for twice this long.
        heartbeat_ms: u64,
        /// Server name and version, e.g. `confab/0.1.0`.
        server: String,
    },
    /// Reply to [`ClientFrame::Ping`].
    Pong { req: ReqId },
    /// A request failed, or a frame could not be understood. `req` is absent when the
    /// failing frame carried no readable request id.
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        req: Option<ReqId>,
        code: ErrorCode,
        message: String,
    },
}

impl ServerFrame {
    /// Encodes the frame as the JSON text sent on the socket.
    pub fn to_json(&self) -> String {
        // Serialising these types cannot fail: every field is a string, number or a
        // plain enum, and no map has non-string keys.
        serde_json::to_string(self).expect("server frames always serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_round_trips_through_json() {
        let frame = ClientFrame::Ping { req: 7 };
        let text = serde_json::to_string(&frame).unwrap();
        assert_eq!(text, r#"{"type":"ping","req":7}"#);
        assert_eq!(serde_json::from_str::<ClientFrame>(&text).unwrap(), frame);
    }

    #[test]
    fn error_without_req_omits_the_field() {
        let frame = ServerFrame::Error {
            req: None,
            code: ErrorCode::BadFrame,
            message: "not JSON".into(),
        };
        assert_eq!(
            frame.to_json(),
            r#"{"type":"error","code":"bad_frame","message":"not JSON"}"#
        );
    }

    #[test]
    fn welcome_has_the_documented_shape() {
        let frame = ServerFrame::Welcome {
            protocol: "confab.v1".into(),
            conn_id: "c1".into(),
            heartbeat_ms: 25_000,
            server: "confab/0.1.0".into(),
        };
        let value: serde_json::Value = serde_json::from_str(&frame.to_json()).unwrap();
        assert_eq!(value["type"], "welcome");
        assert_eq!(value["heartbeat_ms"], 25_000);
        assert_eq!(serde_json::from_value::<ServerFrame>(value).unwrap(), frame);
    }
}

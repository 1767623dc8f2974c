//! The opening handshake (RFC 6455 §4.2): checks that a request asks for a WebSocket,
//! answers `101 Switching Protocols`, and hands the upgraded connection over as a
//! [`Socket`] once hyper releases it.
//!
//! Only HTTP/1.1 upgrades are taken (the server speaks HTTP/1.1). A request that is not a
//! WebSocket handshake gets a plain HTTP error with the reason in its body: 405 for a
//! method other than GET, 426 for another HTTP version or a connection hyper cannot
//! upgrade, 400 for a missing or wrong header. §4.2.1 and §4.4 are followed to the
//! letter: the key must be base64 of exactly 16 bytes, and the 400 for a version other
//! than 13 names the one this server speaks (`Sec-WebSocket-Version: 13`).

use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Version, header, request::Parts};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::FutureExt;
use futures_util::future::Either;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::{Socket, SocketReader, SocketWriter};

/// A request to open a WebSocket, checked.
pub struct Upgrade {
    key: HeaderValue,
    offered: Option<HeaderValue>,
    on_upgrade: OnUpgrade,
}

/// Why a request is not a WebSocket handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotAHandshake {
    #[error("a WebSocket handshake is a GET request")]
    NotGet,
    #[error("WebSockets are opened over HTTP/1.1")]
    NotHttp11,
    #[error("the Connection header does not include 'upgrade'")]
    NoConnectionUpgrade,
    #[error("the Upgrade header is not 'websocket'")]
    NotWebSocket,
    #[error("the Sec-WebSocket-Version header is not 13")]
    WrongVersion,
    #[error("the Sec-WebSocket-Key header is missing")]
    NoKey,
    #[error("the Sec-WebSocket-Key header is not base64 of 16 bytes")]
    BadKey,
    #[error("this connection cannot be upgraded")]
    NotUpgradable,
}

impl IntoResponse for NotAHandshake {
    fn into_response(self) -> Response {
        let status = match self {
            NotAHandshake::NotGet => StatusCode::METHOD_NOT_ALLOWED,
            NotAHandshake::NotUpgradable | NotAHandshake::NotHttp11 => StatusCode::UPGRADE_REQUIRED,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut response = (status, self.to_string()).into_response();
        let headers = response.headers_mut();
        if status == StatusCode::UPGRADE_REQUIRED {
            headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        }
        if status == StatusCode::UPGRADE_REQUIRED || self == NotAHandshake::WrongVersion {
            headers.insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
        }
        response
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = NotAHandshake;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if parts.method != Method::GET {
            return Err(NotAHandshake::NotGet);
        }
        if parts.version != Version::HTTP_11 {
            return Err(NotAHandshake::NotHttp11);
        }
        let headers = &parts.headers;
        if !has_token(headers, header::CONNECTION, "upgrade") {
            return Err(NotAHandshake::NoConnectionUpgrade);
        }
        if !has_token(headers, header::UPGRADE, "websocket") {
            return Err(NotAHandshake::NotWebSocket);
        }
        if headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .map(HeaderValue::as_bytes)
            != Some(b"13")
        {
            return Err(NotAHandshake::WrongVersion);
        }
        let key = headers
            .get(header::SEC_WEBSOCKET_KEY)
            .ok_or(NotAHandshake::NoKey)?
            .clone();
        if !is_key(key.as_bytes()) {
            return Err(NotAHandshake::BadKey);
        }
        let offered = headers.get(header::SEC_WEBSOCKET_PROTOCOL).cloned();
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or(NotAHandshake::NotUpgradable)?;
        Ok(Upgrade {
            key,
            offered,
            on_upgrade,
        })
    }
}

impl Upgrade {
    /// Whether the client offered `subprotocol` in `Sec-WebSocket-Protocol`.
    pub fn offers(&self, subprotocol: &str) -> bool {
        let Some(offered) = self.offered.as_ref().and_then(|v| v.to_str().ok()) else {
            return false;
        };
        offered.split(',').any(|p| p.trim() == subprotocol)
    }

    /// Answers the handshake (naming `subprotocol` if given) and runs `connection` with the
    /// socket once the client has it. `max_message` bounds what the client may send.
    pub fn accept<F, Fut>(
        self,
        subprotocol: Option<&'static str>,
        max_message: usize,
        connection: F,
    ) -> Response
    where
        F: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        // `then`, not an async block: the task keeps the closure only until the upgrade
        // is done, and then the connection's future alone (an async block would keep its
        // captures beside the connection for its whole life).
        let task = self
            .on_upgrade
            .then(move |upgraded| match socket(upgraded, max_message) {
                Some(socket) => Either::Left(connection(socket)),
                None => Either::Right(std::future::ready(())),
            });
        tokio::spawn(task);
        let accept = tungstenite::handshake::derive_accept_key(self.key.as_bytes());
        let mut response = Response::new(axum::body::Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(
            header::SEC_WEBSOCKET_ACCEPT,
            HeaderValue::from_str(&accept).expect("base64 is a header value"),
        );
        if let Some(subprotocol) = subprotocol {
            headers.insert(
                header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_static(subprotocol),
            );
        }
        response
    }
}

/// The socket of an upgraded connection: the stream hyper was given (`http/serve.rs`), and
/// a copy of any bytes the client sent right behind its handshake (hyper's leftover
/// bytes share its whole read buffer, which must not stay for the connection's life).
fn socket(
    upgraded: Result<hyper::upgrade::Upgraded, hyper::Error>,
    max_message: usize,
) -> Option<Socket> {
    let Ok(upgraded) = upgraded else {
        tracing::debug!("upgrade failed: the client went away");
        return None;
    };
    let Ok(parts) = upgraded.downcast::<TokioIo<TcpStream>>() else {
        tracing::error!("upgraded connection is not a TCP stream: closed");
        return None;
    };
    let (read, write) = parts.io.into_inner().into_split();
    Some(Socket {
        reader: SocketReader::with_buffered(read, max_message, &parts.read_buf),
        writer: SocketWriter::new(write),
    })
}

/// Whether `key` is a `Sec-WebSocket-Key` (§4.1): base64 (with padding) of 16 bytes.
fn is_key(key: &[u8]) -> bool {
    // 16 bytes are 24 characters of base64; anything longer is refused unread.
    key.len() == 24 && BASE64.decode(key).is_ok_and(|nonce| nonce.len() == 16)
}

/// Whether a comma-separated header names `token` (case-insensitively).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|part| part.trim().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn handshake() -> axum::http::request::Builder {
        Request::get("/ws")
            .version(Version::HTTP_11)
            .header("connection", "keep-alive, Upgrade")
            .header("upgrade", "WebSocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    }

    async fn check(request: Request<()>) -> Result<Upgrade, NotAHandshake> {
        let (mut parts, ()) = request.into_parts();
        Upgrade::from_request_parts(&mut parts, &()).await
    }

    /// The handshake with one header replaced (or removed, with `None`).
    fn with(name: &'static str, value: Option<&'static str>) -> Request<()> {
        let mut request = handshake().body(()).unwrap();
        match value {
            Some(value) => request
                .headers_mut()
                .insert(name, HeaderValue::from_static(value)),
            None => request.headers_mut().remove(name),
        };
        request
    }

    #[tokio::test]
    async fn each_missing_piece_has_its_own_refusal() {
        let cases = [
            (
                Request::post("/ws").body(()).unwrap(),
                NotAHandshake::NotGet,
            ),
            (
                handshake().version(Version::HTTP_10).body(()).unwrap(),
                NotAHandshake::NotHttp11,
            ),
            (
                with("connection", Some("close")),
                NotAHandshake::NoConnectionUpgrade,
            ),
            (with("upgrade", Some("h2c")), NotAHandshake::NotWebSocket),
            (
                with("sec-websocket-version", Some("8")),
                NotAHandshake::WrongVersion,
            ),
            (with("sec-websocket-key", None), NotAHandshake::NoKey),
            (
                with("sec-websocket-key", Some("c2hvcnQ=")),
                NotAHandshake::BadKey,
            ),
            (
                with("sec-websocket-key", Some("!!!not base64 at all!!!")),
                NotAHandshake::BadKey,
            ),
            // A well-formed request that hyper did not mark as upgradable.
            (handshake().body(()).unwrap(), NotAHandshake::NotUpgradable),
        ];
        for (request, expected) in cases {
            assert_eq!(check(request).await.err(), Some(expected));
        }
    }

    #[test]
    fn refusals_are_http_errors_with_a_reason() {
        let response = NotAHandshake::NotGet.into_response();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        let response = NotAHandshake::NotUpgradable.into_response();
        assert_eq!(response.status(), StatusCode::UPGRADE_REQUIRED);
        assert_eq!(response.headers()["upgrade"], "websocket");
        let response = NotAHandshake::WrongVersion.into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()["sec-websocket-version"], "13");
        let response = NotAHandshake::BadKey.into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(!response.headers().contains_key("sec-websocket-version"));
    }

    #[test]
    fn a_key_is_base64_of_exactly_sixteen_bytes() {
        let keys: [(&[u8], bool); 8] = [
            (b"dGhlIHNhbXBsZSBub25jZQ==", true),
            (b"AAAAAAAAAAAAAAAAAAAAAA==", true),
            (b"c2hvcnQ=", false),
            (b"!!!not base64 at all!!!", false),
            // 17 bytes, 15 bytes, no padding, and a 24-character string that is not base64.
            (b"AAAAAAAAAAAAAAAAAAAAAAA=", false),
            (b"AAAAAAAAAAAAAAAAAAAA", false),
            (b"dGhlIHNhbXBsZSBub25jZQ", false),
            (b"dGhlIHNhbXBsZSBub25jZ?=", false),
        ];
        for (key, ok) in keys {
            assert_eq!(is_key(key), ok, "{}", String::from_utf8_lossy(key));
        }
    }

    #[test]
    fn tokens_are_matched_whole_and_without_case() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        assert!(has_token(&headers, header::CONNECTION, "upgrade"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrades"));
        assert!(!has_token(&headers, header::CONNECTION, "upgrade"));
    }
}

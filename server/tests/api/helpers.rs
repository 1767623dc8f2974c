//! `spawn_app()`: the real server on port 0 with a fresh data folder, plus clients for it.

use confab::config::Settings;
use confab::startup::Application;
use futures_util::{SinkExt, StreamExt};
use protocol::ServerFrame;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

/// How long any single wait in a test may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

pub type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// A free port on the loopback interface (free when asked; nothing holds it after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The upgrade request for `/ws` at `addr`, offering `confab.v1`, with `token` as bearer.
pub fn ws_request(
    addr: SocketAddr,
    token: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = format!("ws://{addr}{}", protocol::WS_PATH)
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        HeaderValue::from_static(protocol::SUBPROTOCOL),
    );
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).expect("a token is header-safe"),
    );
    request
}

/// A running server.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The server's own store, for seeding users, tokens and rooms.
    pub store: std::sync::Arc<dyn store::Store>,
    /// The server's gateway, for its counters.
    pub gateway: confab::gateway::Gateway,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _data: tempfile::TempDir,
    _db: Option<store::testing::TestDb>,
}

/// What a stopped server leaves behind: its data folder and database, until dropped.
pub struct Leftovers {
    _data: tempfile::TempDir,
    _db: Option<store::testing::TestDb>,
}

/// A user of a test server with an API token.
pub struct TestUser {
    pub user: store::User,
    pub token: String,
}

/// Which store a test server runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    /// The embedded default: SQLite in the server's fresh data folder.
    Sqlite,
    /// A fresh database on the real Postgres server.
    Postgres,
}

/// Starts a server with default settings (SQLite).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server on `backend`; `None` (said loudly) when Postgres is unreachable and
/// CI is not set.
pub async fn spawn_app_on(backend: Backend) -> Option<TestApp> {
    spawn_app_on_with(backend, |_| {}).await
}

/// [`spawn_app_on`] after letting the test adjust the settings.
pub async fn spawn_app_on_with(
    backend: Backend,
    adjust: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    match backend {
        Backend::Sqlite => Some(spawn_app_with(adjust).await),
        Backend::Postgres => {
            let db = store::testing::postgres().await?;
            let url = db.url.clone();
            let mut app = spawn_app_with(|s| {
                adjust(s);
                s.database_url = Some(url);
            })
            .await;
            app._db = Some(db);
            Some(app)
        }
    }
}

/// A response that sends nothing for this long fails its test: a hung page must show up
/// as a failure naming the test, never as a CI run that runs out of time.
const HTTP_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// An HTTP client with its own cookie jar (one browser) and [`HTTP_READ_TIMEOUT`].
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .read_timeout(HTTP_READ_TIMEOUT)
        .build()
        .unwrap()
}

/// Starts a server after letting the test adjust its settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let data = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::defaults();
    settings.bind = Some("127.0.0.1:0".parse().unwrap());
    settings.data_dir = data.path().to_path_buf();
    settings.shutdown_grace_secs = 5;
    adjust(&mut settings);

    let app = Application::build(settings).await.expect("server builds");
    let addr = app.addr();
    let store = app.store();
    let gateway = app.gateway();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        store,
        gateway,
        http: http_client(),
        stop: Some(stop),
        task: Some(task),
        _data: data,
        _db: None,
    }
}

impl TestApp {
    /// The server's data folder (its SQLite file, when on the embedded default).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// GETs `path` and returns the body as text, whatever the status.
    pub async fn get_text(&self, path: &str) -> String {
        let resp = self.http.get(self.url(path)).send().await.expect("GET");
        resp.text().await.expect("a text body")
    }

    /// GETs `path` and returns the body as JSON, whatever the status.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        serde_json::from_str(&self.get_text(path).await).expect("a JSON body")
    }

    /// Calls a server function the way the hydrated app does (form-encoded, JSON back).
    pub async fn call(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.call_as(&self.http, path, form).await
    }

    /// [`TestApp::call`] from `client` (another browser's cookie jar).
    pub async fn call_as(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(path))
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("server function request")
    }

    /// Signs up through the server function; the client keeps the session cookie.
    pub async fn sign_up(&self, handle: &str, password: &str) -> reqwest::Response {
        self.call(
            "/api/auth/signup",
            &[
                ("handle", handle),
                ("display_name", &handle.to_uppercase()),
                ("password", password),
            ],
        )
        .await
    }

    /// The signed-in user as `/api/auth/me` reports it (JSON `null` when signed out).
    pub async fn me(&self) -> serde_json::Value {
        let resp = self.call("/api/auth/me", &[]).await;
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }

    /// A fresh HTTP client for this server (its own cookie jar: another browser).
    pub fn new_client(&self) -> reqwest::Client {
        http_client()
    }

    /// A new user (with a placeholder password hash) and an API token for them.
    pub async fn user(&self, handle: &str) -> TestUser {
        let user = self
            .store
            .create_user(
                &protocol::names::Handle::parse(handle).unwrap(),
                &protocol::names::DisplayName::parse(&handle.to_uppercase()).unwrap(),
                "$argon2id$not-a-real-hash",
            )
            .await
            .expect("create user");
        let token = app::ssr::tokens::generate();
        let hash = app::ssr::tokens::lookup_hash(&token).unwrap();
        self.store
            .create_api_token(user.id, "test", &hash)
            .await
            .expect("create token");
        TestUser { user, token }
    }

    /// A public room created by `owner`.
    pub async fn public_room(&self, owner: &TestUser, name: &str) -> protocol::ids::RoomId {
        self.room(owner, store::RoomKind::Public, name).await
    }

    /// A room of `kind` created by `owner`.
    pub async fn room(
        &self,
        owner: &TestUser,
        kind: store::RoomKind,
        name: &str,
    ) -> protocol::ids::RoomId {
        self.store
            .create_room(
                owner.user.id,
                kind,
                &protocol::names::RoomName::parse(name).unwrap(),
                "",
            )
            .await
            .expect("create room")
            .id
    }

    /// Connects as `user` (bearer token) and returns the socket after `welcome`.
    pub async fn connect_as(&self, user: &TestUser) -> Ws {
        let (ws, welcome) = self
            .connect_with(&[("authorization", &format!("Bearer {}", user.token))])
            .await;
        match welcome {
            ServerFrame::Welcome { user: me, .. } => assert_eq!(me.id, user.user.id),
            other => panic!("expected welcome, got {other:?}"),
        }
        ws
    }

    /// Connects as `user` over a socket with a tiny receive buffer, so that a test that
    /// stops reading makes the server's writes block quickly (loopback buffers otherwise
    /// grow to megabytes).
    pub async fn connect_slow(&self, user: &TestUser) -> Ws {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(self.addr).await.unwrap();
        let request = ws_request(self.addr, &user.token);
        let (ws, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
            .await
            .unwrap();
        let mut ws = ws;
        assert!(matches!(
            next_frame(&mut ws).await,
            ServerFrame::Welcome { .. }
        ));
        ws
    }

    /// Opens a WebSocket offering `confab.v1` with extra headers; returns the first frame.
    pub async fn connect_with(&self, headers: &[(&str, &str)]) -> (Ws, ServerFrame) {
        let mut ws = self
            .connect_headers(Some(protocol::SUBPROTOCOL), headers)
            .await;
        let first = next_frame(&mut ws).await;
        (ws, first)
    }

    /// Opens a WebSocket as a fresh user; returns it with the `welcome` frame.
    pub async fn connect(&self) -> (Ws, ServerFrame) {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let user = self.user(&format!("anon{n}")).await;
        let mut ws = self
            .connect_headers(
                Some(protocol::SUBPROTOCOL),
                &[("authorization", &format!("Bearer {}", user.token))],
            )
            .await;
        let welcome = next_frame(&mut ws).await;
        assert!(
            matches!(welcome, ServerFrame::Welcome { .. }),
            "first frame must be welcome, got {welcome:?}"
        );
        (ws, welcome)
    }

    /// Opens a WebSocket offering `subprotocol` (or none) without reading anything.
    pub async fn connect_raw(&self, subprotocol: Option<&str>) -> Ws {
        self.connect_headers(subprotocol, &[]).await
    }

    /// Opens a WebSocket offering `subprotocol` (or none) with extra headers.
    pub async fn connect_headers(&self, subprotocol: Option<&str>, headers: &[(&str, &str)]) -> Ws {
        ws_connect(self.addr, subprotocol, headers).await
    }

    /// Stops the server gracefully and waits for it to finish. The returned value keeps
    /// the server's data folder (and database) alive, for checks after the stop.
    pub async fn stop(mut self) -> Leftovers {
        self.stop_in_place().await;
        Leftovers {
            _data: std::mem::replace(&mut self._data, tempfile::tempdir().expect("temp dir")),
            _db: self._db.take(),
        }
    }

    async fn stop_in_place(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(WAIT, task)
                .await
                .expect("server stops in time")
                .expect("server task did not panic")
                .expect("server ran without error");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Sends a text frame.
pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.expect("send");
}

/// The next server frame, failing the test on timeout, close, or anything that is not a
/// valid JSON text frame.
pub async fn next_frame(ws: &mut Ws) -> ServerFrame {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("no frame in time")
            .expect("stream ended")
            .expect("read failed");
        match msg {
            Message::Text(text) => {
                return serde_json::from_str(text.as_str())
                    .unwrap_or_else(|e| panic!("undecodable server frame {text}: {e}"));
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Reads until the connection ends: `Some(close frame)` if the server could send one,
/// `None` if the connection just ended (a client that does not read cannot receive a
/// close frame either).
pub async fn expect_end(ws: &mut Ws) -> Option<CloseFrame> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("the connection did not end in time")
        {
            Some(Ok(Message::Close(frame))) => return frame,
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

/// Reads until the server closes, returning the close frame it sent.
pub async fn expect_close(ws: &mut Ws) -> CloseFrame {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("no close in time");
        match msg {
            Some(Ok(Message::Close(Some(frame)))) => return frame,
            Some(Ok(Message::Close(None))) => panic!("close without a code"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("connection failed before a close frame: {e}"),
            None => panic!("stream ended without a close frame"),
        }
    }
}

/// The Redis the cluster tests use (`CONFAB_TEST_REDIS_URL`, else the local one); `None`
/// (said loudly) when it is unreachable and CI is not set. With CI set, that panics.
pub async fn test_redis_url() -> Option<String> {
    let url = std::env::var("CONFAB_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string());
    let reached = async {
        let client = redis::Client::open(url.as_str())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    };
    match tokio::time::timeout(WAIT, reached).await {
        Ok(Ok(_)) => Some(url),
        failure => {
            if std::env::var_os("CI").is_some() {
                panic!("Redis is unreachable at {url} and CI is set: {failure:?}");
            }
            eprintln!("SKIPPED: Redis is unreachable at {url}: {failure:?}");
            None
        }
    }
}

/// Several servers forming one cluster: one fresh Postgres database, one Redis, a channel
/// prefix of their own.
pub struct Cluster {
    pub nodes: Vec<TestApp>,
    pub db_url: String,
    pub redis_url: String,
    pub prefix: String,
    /// The shared database (to take it away in outage tests).
    pub db: store::testing::TestDb,
}

/// Starts `n` nodes of a new cluster; `None` when Postgres or Redis is unreachable and CI
/// is not set.
pub async fn spawn_cluster(n: usize) -> Option<Cluster> {
    let redis_url = test_redis_url().await?;
    spawn_cluster_on(n, redis_url).await
}

/// [`spawn_cluster`] on the Redis at `redis_url`.
pub async fn spawn_cluster_on(n: usize, redis_url: String) -> Option<Cluster> {
    spawn_cluster_on_with(n, redis_url, |_| {}).await
}

/// [`spawn_cluster`] after letting the test adjust every node's settings.
pub async fn spawn_cluster_with(
    n: usize,
    adjust: impl Fn(&mut Settings) + Clone + Send + 'static,
) -> Option<Cluster> {
    let redis_url = test_redis_url().await?;
    spawn_cluster_on_with(n, redis_url, adjust).await
}

/// [`spawn_cluster_on`] after letting the test adjust every node's settings.
pub async fn spawn_cluster_on_with(
    n: usize,
    redis_url: String,
    adjust: impl Fn(&mut Settings) + Clone + Send + 'static,
) -> Option<Cluster> {
    let db = store::testing::postgres().await?;
    let prefix = format!("confab-test-{}", uuid::Uuid::now_v7().simple());
    let mut nodes = Vec::with_capacity(n);
    for _ in 0..n {
        let (url, redis, prefix) = (db.url.clone(), redis_url.clone(), prefix.clone());
        let adjust = adjust.clone();
        nodes.push(
            spawn_app_with(move |s| {
                s.database_url = Some(url);
                s.redis_url = Some(redis);
                s.redis_prefix = prefix;
                // Cluster tests send in bursts; the per-connection limit is tested elsewhere.
                s.rate_per_sec = 10_000;
                s.rate_burst = 10_000;
                adjust(s);
            })
            .await,
        );
    }
    Some(Cluster {
        nodes,
        db_url: db.url.clone(),
        redis_url,
        prefix,
        db,
    })
}

/// Opens a WebSocket to the server at `addr` offering `subprotocol`, with `headers`.
pub async fn ws_connect(
    addr: SocketAddr,
    subprotocol: Option<&str>,
    headers: &[(&str, &str)],
) -> Ws {
    let mut request = format!("ws://{}{}", addr, protocol::WS_PATH)
        .into_client_request()
        .unwrap();
    if let Some(p) = subprotocol {
        request
            .headers_mut()
            .insert("sec-websocket-protocol", HeaderValue::from_str(p).unwrap());
    }
    for (name, value) in headers {
        request.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    let (ws, _response) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
        .await
        .expect("connect timed out")
        .expect("WebSocket handshake");
    ws
}

/// Connects to the server at `addr` as `user` (bearer token); returns the socket after
/// `welcome`.
pub async fn connect_user(addr: SocketAddr, user: &TestUser) -> Ws {
    let mut ws = ws_connect(
        addr,
        Some(protocol::SUBPROTOCOL),
        &[("authorization", &format!("Bearer {}", user.token))],
    )
    .await;
    match next_frame(&mut ws).await {
        ServerFrame::Welcome { .. } => ws,
        other => panic!("expected welcome, got {other:?}"),
    }
}

/// A real PNG of `width` × `height` (black), for uploads.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::new_rgb8(width, height)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// `POST /files` as `user` (bearer token) to the server at `base`.
pub async fn upload_to(
    base: &str,
    user: &TestUser,
    room: protocol::ids::RoomId,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/files"))
        .query(&[("room", room.to_string()), ("name", name.to_string())])
        .bearer_auth(&user.token)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

/// A response header's value ("" when absent).
pub fn header<'a>(resp: &'a reqwest::Response, name: &str) -> &'a str {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

/// The `code` of a JSON error body (`{"code", "message"}`).
pub async fn error_code(resp: reqwest::Response) -> String {
    let body: serde_json::Value = resp.json().await.unwrap();
    body["code"].as_str().unwrap().to_string()
}

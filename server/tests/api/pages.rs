//! HTTP: server-rendered pages, the server function, static files, health.

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_answers_ok() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("HTTP request to the test server");
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn home_page_is_rendered_on_the_server() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.url("/"))
        .send()
        .await
        .expect("HTTP request to the test server");
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("<title>Confab</title>"), "{html}");
    // The landing page for visitors: what Confab is, and its picture.
    assert!(html.contains("data-testid=\"landing\""), "{html}");
    assert!(html.contains("Team chat that keeps up."), "{html}");
    assert!(html.contains("src=\"/screenshots/chat.png\""), "{html}");
    assert!(
        html.contains("Sign up"),
        "an anonymous visitor is offered an account: {html}"
    );
    // The hydration scripts are linked.
    assert!(html.contains("/pkg/"), "{html}");
}

#[tokio::test]
async fn unknown_pages_are_404_with_a_way_back() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.url("/no/such/page"))
        .send()
        .await
        .expect("HTTP request to the test server");
    assert_eq!(resp.status(), 404);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Not found"), "{html}");
}

#[tokio::test]
async fn server_status_function_reports_name_and_uptime() {
    let app = spawn_app().await;
    let resp = app
        .http
        .post(app.url("/api/status"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body["server"],
        format!("confab/{}", env!("CARGO_PKG_VERSION"))
    );
    assert!(body["uptime_secs"].as_u64().unwrap() < 60);
}

#[tokio::test]
async fn metrics_are_exposed_in_prometheus_format() {
    let app = spawn_app().await;
    let ana = app.user("metrics-ana").await;
    let room = app.public_room(&ana, "metrics-room").await;
    let mut c = crate::wsclient::Client::new(app.connect_as(&ana).await);
    c.ok(crate::wsclient::subscribe(room, None)).await;
    c.ok(crate::wsclient::send(room, "m1", "counted")).await;
    // The event itself has been written to the socket once it is read here.
    assert_eq!(c.events(room, 1).await[0].1, "counted");
    let resp = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let body = resp.text().await.unwrap();
    for name in [
        "confab_connections_open",
        "confab_rooms_with_subscribers",
        "confab_frames_in_total{type=\"send\"}",
        "confab_frames_out_total{type=\"ack\"}",
        "confab_frames_out_total{type=\"event\"}",
        "confab_delivery_seconds_bucket",
        "confab_append_batch_size_bucket",
        "confab_commit_seconds_bucket",
        "confab_send_ack_seconds_bucket",
        "confab_broker_published_total{kind=\"event\"}",
        "confab_broker_received_total{kind=\"event\"}",
        "confab_broker_lag_seconds_bucket{kind=\"event\"",
    ] {
        assert!(body.contains(name), "{name} missing from:\n{body}");
    }
}

#[tokio::test]
async fn responses_carry_security_headers_and_are_compressed_on_request() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.url("/"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("HTTP request to the test server");
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(h["content-encoding"], "gzip");
    // A page is one user's: never kept by shared caches, always revalidated.
    assert_eq!(h["cache-control"], "private, no-cache");
}

#[tokio::test]
async fn a_page_allows_only_its_own_scripts_and_those_with_its_nonce() {
    let app = spawn_app().await;
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let resp = app.http.get(app.url("/")).send().await.unwrap();
        let csp = resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("no nonce in {csp}"))
            .to_string();
        assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
        assert!(csp.contains("connect-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        let body = resp.text().await.unwrap();
        // Every script in the page is either loaded from us or carries the nonce.
        for tag in body.split("<script").skip(1) {
            let open = &tag[..tag.find('>').unwrap()];
            assert!(
                open.contains(&format!("nonce=\"{nonce}\"")) || open.contains("src=\"/"),
                "a script the policy blocks: <script{open}>"
            );
        }
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "a nonce is used once");
}

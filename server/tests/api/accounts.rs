//! Accounts over real HTTP: sign-up, log-in, log-out, sessions, rate limits, the no-JS
//! form flow, and the `confab user` / `confab token` CLI. Run on SQLite and Postgres.

use crate::helpers::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;

const PASSWORD: &str = "correct horse battery";

fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("confab_session="))
        .map(str::to_owned)
}

async fn error_of(resp: reqwest::Response) -> (StatusCode, serde_json::Value) {
    let status = resp.status();
    (status, resp.json().await.expect("a JSON error body"))
}

async fn sign_up_logs_in_and_log_out_ends_the_session(app: TestApp) {
    assert_eq!(app.me().await, serde_json::Value::Null);
    let resp = app.sign_up("Ana", PASSWORD).await;
    assert_eq!(resp.status(), 200);
    let cookie = session_cookie(&resp).expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let me = app.me().await;
    assert_eq!(me["handle"], "ana");
    assert_eq!(me["display_name"], "ANA");

    let resp = app.call("/api/auth/logout", &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.me().await, serde_json::Value::Null);

    // The old cookie no longer signs anyone in.
    let old = cookie.split(';').next().unwrap().to_string();
    let replay = app
        .new_client()
        .post(app.url("/api/auth/me"))
        .header("cookie", old)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        replay.json::<serde_json::Value>().await.unwrap(),
        serde_json::Value::Null
    );
}

async fn log_in_checks_the_password_and_cycles_the_session(app: TestApp) {
    app.sign_up("bo", PASSWORD).await;
    app.call("/api/auth/logout", &[]).await;

    let browser = app.new_client();
    let first = browser.get(app.url("/login")).send().await.unwrap();
    let before = session_cookie(&first);

    let (status, body) = error_of(
        app.call_as(
            &browser,
            "/api/auth/login",
            &[("handle", "bo"), ("password", "wrong password")],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, serde_json::json!("WrongCredentials"));
    let (status, body) = error_of(
        app.call_as(
            &browser,
            "/api/auth/login",
            &[("handle", "nobody"), ("password", PASSWORD)],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            serde_json::json!("WrongCredentials")
        ),
        "same answer for an unknown handle"
    );

    let resp = app
        .call_as(
            &browser,
            "/api/auth/login",
            &[("handle", "BO"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let after = session_cookie(&resp).expect("log-in sets the session cookie");
    assert_ne!(Some(after), before, "the session id changes at log-in");
    let me: serde_json::Value = app
        .call_as(&browser, "/api/auth/me", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["handle"], "bo");
}

async fn sign_up_refuses_bad_fields_with_clear_messages(app: TestApp) {
    app.sign_up("cy", PASSWORD).await;
    let other = app.new_client();
    type Form<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Form, StatusCode, &str); 5] = [
        (
            &[
                ("handle", "cy"),
                ("display_name", "Cy"),
                ("password", PASSWORD),
            ],
            StatusCode::CONFLICT,
            "already taken",
        ),
        (
            &[
                ("handle", "dee"),
                ("display_name", "Dee"),
                ("password", "short"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "at least 8",
        ),
        (
            &[
                ("handle", "x"),
                ("display_name", "X"),
                ("password", PASSWORD),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "2 to 32",
        ),
        (
            &[
                ("handle", "eve"),
                ("display_name", &"E".repeat(65)),
                ("password", PASSWORD),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "at most 64",
        ),
        (
            &[
                ("handle", "fay"),
                ("display_name", "Fay"),
                ("password", &"p".repeat(129)),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "at most 128",
        ),
    ];
    for (form, status, message) in cases {
        let resp = app.call_as(&other, "/api/auth/signup", form).await;
        assert_eq!(resp.status(), status, "{form:?}");
        let body = resp.text().await.unwrap();
        let shown = app_error_message(&body);
        assert!(shown.contains(message), "{form:?}: {shown}");
    }
    let me: serde_json::Value = app
        .call_as(&other, "/api/auth/me", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me,
        serde_json::Value::Null,
        "no failed sign-up signs anyone in"
    );
}

/// The message the UI shows for an `AuthError` JSON body.
fn app_error_message(body: &str) -> String {
    let err: app::auth::AuthError =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"));
    err.to_string()
}

macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let app = crate::helpers::spawn_app_on(super::Backend::Sqlite).await.unwrap();
                    super::$case(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(app) = crate::helpers::spawn_app_on(super::Backend::Postgres).await else { return };
                    super::$case(app).await;
                }
            )*
        }
    };
}

on_both_backends!(
    sign_up_logs_in_and_log_out_ends_the_session,
    log_in_checks_the_password_and_cycles_the_session,
    sign_up_refuses_bad_fields_with_clear_messages,
    readiness_reports_the_store_and_the_broker,
);

#[tokio::test]
async fn repeated_failed_log_ins_are_rate_limited_per_handle() {
    let app = spawn_app().await;
    app.sign_up("gus", PASSWORD).await;
    let attacker = app.new_client();
    for _ in 0..10 {
        let resp = app
            .call_as(
                &attacker,
                "/api/auth/login",
                &[("handle", "gus"), ("password", "guess guess")],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = app
        .call_as(
            &attacker,
            "/api/auth/login",
            &[("handle", "gus"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        resp.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    assert!(app_error_message(&resp.text().await.unwrap()).contains("Too many attempts"));
    // Another handle is unaffected.
    app.sign_up("hal", PASSWORD).await;
    let resp = app
        .call_as(
            &attacker,
            "/api/auth/login",
            &[("handle", "hal"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_form_post_without_javascript_redirects_back_with_the_error_shown() {
    let app = spawn_app().await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signup_page = app.url("/signup");
    let resp = browser
        .post(app.url("/api/auth/signup"))
        .header("accept", "text/html")
        .header("referer", &signup_page)
        .form(&[
            ("handle", "ivy"),
            ("display_name", "Ivy"),
            ("password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&signup_page) && location.contains("__err="),
        "{location}"
    );
    let html = browser
        .get(&location)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("A password has at least 8 characters."),
        "the error is server-rendered"
    );

    let resp = browser
        .post(app.url("/api/auth/signup"))
        .header("accept", "text/html")
        .header("referer", &signup_page)
        .form(&[
            ("handle", "ivy"),
            ("display_name", "Ivy"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(resp.headers()["location"], "/");
    let home = browser
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Signed in: the home page is the chat, rendered on the server with the user's name.
    assert!(home.contains(r#"data-testid="chat""#), "{home}");
    assert!(home.contains(r#"class="chat__who">Ivy<"#), "{home}");
}

/// Ready: the store answers and can write (a fresh store proves it with the write probe;
/// a store that cannot write is `faults::full_disk`'s), and the broker answers.
async fn readiness_reports_the_store_and_the_broker(app: TestApp) {
    let resp = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"].as_str(), Some("ready"), "{body}");
    assert!(
        matches!(body["store"].as_str(), Some("sqlite" | "postgres")),
        "{body}"
    );
    assert_eq!(
        (body["store_ok"].as_bool(), body["store_writable"].as_bool()),
        (Some(true), Some(true)),
        "{body}"
    );
    assert_eq!(
        (body["broker"].as_str(), body["broker_ok"].as_bool()),
        (Some("memory"), Some(true))
    );
}

#[tokio::test]
async fn the_cli_creates_users_and_tokens_that_resolve_until_revoked() {
    let data = tempfile::tempdir().unwrap();
    let confab = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_confab"))
            .args(args)
            .env("CONFAB_DATA_DIR", data.path())
            .env("CONFAB_NEW_PASSWORD", PASSWORD)
            .env_remove("DATABASE_URL")
            .env("CONFAB_LOG", "warn")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = confab(&[
        "user",
        "create",
        "--handle",
        "bot-owner",
        "--name",
        "Bot Owner",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("created user @bot-owner"), "{out}");
    let (ok, secret, err) = confab(&["token", "create", "--user", "bot-owner", "--name", "ci-bot"]);
    assert!(ok, "{err}");
    let secret = secret.trim().to_string();
    assert!(secret.starts_with("cfb_"), "{secret}");
    assert!(
        !err.contains(&secret),
        "the secret is printed once, on stdout only"
    );

    let store = store::open(&store::StoreConfig {
        database_url: None,
        data_dir: data.path().into(),
    })
    .await
    .unwrap();
    let hash = app::ssr::tokens::lookup_hash(&secret).unwrap();
    let owner = store
        .user_by_token_hash(&hash)
        .await
        .unwrap()
        .expect("the token resolves");
    assert_eq!(owner.handle.as_str(), "bot-owner");

    let (ok, listing, _) = confab(&["token", "list", "--user", "bot-owner"]);
    assert!(ok && listing.contains("active\tci-bot"), "{listing}");
    let id = listing.split('\t').next().unwrap().to_string();
    let (ok, _, err) = confab(&["token", "revoke", "--user", "bot-owner", "--id", &id]);
    assert!(ok, "{err}");
    assert!(store.user_by_token_hash(&hash).await.unwrap().is_none());
    let (ok, _, err) = confab(&["token", "revoke", "--user", "bot-owner", "--id", &id]);
    assert!(!ok && err.contains("no active token"), "{err}");
    let (ok, _, err) = confab(&["user", "create", "--handle", "bot-owner"]);
    assert!(!ok && err.contains("already taken"), "{err}");
}

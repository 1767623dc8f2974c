//! Account settings through their server functions, as the `/settings` page calls them:
//! sessions listed and ended, the password changed (the current one required; other
//! sessions signed out), the display name changed, API tokens made and revoked, and the
//! account deactivated by its owner; a bio and time zone set, and read back on the
//! profile card others open.

use crate::helpers::{TestApp, spawn_app};

async fn overview(app: &TestApp, client: &reqwest::Client) -> serde_json::Value {
    let resp = app.call_as(client, "/api/account/overview", &[]).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn me(app: &TestApp, client: &reqwest::Client) -> serde_json::Value {
    app.call_as(client, "/api/auth/me", &[])
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_manages_their_sessions_password_name_and_tokens() {
    let app = spawn_app().await;
    let laptop = app.new_client();
    let phone = app.new_client();
    let password = "correct horse battery";
    let signed_up = app
        .call_as(
            &laptop,
            "/api/auth/signup",
            &[
                ("handle", "ana"),
                ("display_name", "Ana"),
                ("password", password),
            ],
        )
        .await;
    assert!(signed_up.status().is_success() || signed_up.status().is_redirection());
    app.call_as(
        &phone,
        "/api/auth/login",
        &[("handle", "ana"), ("password", password)],
    )
    .await;
    assert_eq!(me(&app, &phone).await["handle"], "ana");

    let listed = overview(&app, &laptop).await;
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{listed}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_key = sessions.iter().find(|s| s["current"] == false).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !listed.to_string().contains("confab_session"),
        "no session id leaves the server"
    );

    // The wrong current password changes nothing.
    let wrong = app
        .call_as(
            &laptop,
            "/api/account/password",
            &[
                ("current", "not it at all"),
                ("new_password", "a brand new secret"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    assert!(me(&app, &phone).await.is_object());
    let changed = app
        .call_as(
            &laptop,
            "/api/account/password",
            &[
                ("current", password),
                ("new_password", "a brand new secret"),
            ],
        )
        .await;
    assert!(changed.status().is_success(), "{:?}", changed.text().await);
    assert!(
        me(&app, &phone).await.is_null(),
        "the other session is signed out"
    );
    assert_eq!(me(&app, &laptop).await["handle"], "ana", "this one stays");
    let old = app
        .call_as(
            &app.new_client(),
            "/api/auth/login",
            &[("handle", "ana"), ("password", password)],
        )
        .await;
    assert_eq!(old.status(), 401);

    // Ending a session by its key.
    app.call_as(
        &phone,
        "/api/auth/login",
        &[("handle", "ana"), ("password", "a brand new secret")],
    )
    .await;
    let listed = overview(&app, &laptop).await;
    let key = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(key, phone_key, "a new session");
    app.call_as(&laptop, "/api/account/end-session", &[("key", &key)])
        .await;
    assert!(me(&app, &phone).await.is_null());

    let renamed = app
        .call_as(
            &laptop,
            "/api/account/name",
            &[("display_name", "Ana Lima")],
        )
        .await;
    assert!(renamed.status().is_success());
    assert_eq!(me(&app, &laptop).await["display_name"], "Ana Lima");

    // A token made here works as a bearer until revoked.
    let made = app
        .call_as(&laptop, "/api/account/create-token", &[("name", "ci-bot")])
        .await;
    assert_eq!(made.status(), 200);
    let secret: String = made.json().await.unwrap();
    let (_, welcome) = app
        .connect_with(&[("authorization", &format!("Bearer {secret}"))])
        .await;
    assert!(
        matches!(welcome, protocol::ServerFrame::Welcome { .. }),
        "{welcome:?}"
    );
    let listed = overview(&app, &laptop).await;
    let token = &listed["tokens"][0];
    assert_eq!(token["name"], "ci-bot");
    assert!(
        !listed.to_string().contains(&secret),
        "the secret is shown once only"
    );
    app.call_as(
        &laptop,
        "/api/account/revoke-token",
        &[("id", token["id"].as_str().unwrap())],
    )
    .await;
    assert_eq!(overview(&app, &laptop).await["tokens"][0]["revoked"], true);
    let mut ws = app
        .connect_headers(
            Some(protocol::SUBPROTOCOL),
            &[("authorization", &format!("Bearer {secret}"))],
        )
        .await;
    let closed = crate::helpers::expect_close(&mut ws).await;
    assert_eq!(u16::from(closed.code), 4001);

    // Someone else's session cannot list or change this account.
    let stranger = app.new_client();
    assert_eq!(
        app.call_as(&stranger, "/api/account/overview", &[])
            .await
            .status(),
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_deactivates_their_own_account_with_their_password() {
    let app = spawn_app().await;
    let browser = app.new_client();
    app.call_as(
        &browser,
        "/api/auth/signup",
        &[
            ("handle", "dan"),
            ("display_name", "Dan"),
            ("password", "long enough secret"),
        ],
    )
    .await;
    let refused = app
        .call_as(
            &browser,
            "/api/account/deactivate",
            &[("password", "wrong password!")],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert_eq!(me(&app, &browser).await["handle"], "dan");
    app.call_as(
        &browser,
        "/api/account/deactivate",
        &[("password", "long enough secret")],
    )
    .await;
    assert!(me(&app, &browser).await.is_null());
    let again = app
        .call_as(
            &app.new_client(),
            "/api/auth/login",
            &[("handle", "dan"), ("password", "long enough secret")],
        )
        .await;
    assert_eq!(again.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_set_in_settings_is_on_the_card_others_read() {
    let app = spawn_app().await;
    let (ana_http, bo_http) = (app.new_client(), app.new_client());
    for (client, handle) in [(&ana_http, "ana"), (&bo_http, "bo")] {
        let form = [
            ("handle", handle),
            ("display_name", "Someone"),
            ("password", "correct horse battery"),
        ];
        let r = app.call_as(client, "/api/auth/signup", &form).await;
        assert!(r.status().is_success() || r.status().is_redirection());
    }
    let ana = me(&app, &ana_http).await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let saved = app
        .call_as(
            &ana_http,
            "/api/account/profile",
            &[
                ("bio", " Designer.\nAsk me about fonts. "),
                ("time_zone", "Europe/Lisbon"),
            ],
        )
        .await;
    assert!(saved.status().is_success() || saved.status().is_redirection());
    let mine = overview(&app, &ana_http).await;
    assert_eq!(mine["bio"], "Designer.\nAsk me about fonts.", "{mine}");
    assert_eq!(mine["time_zone"], "Europe/Lisbon", "{mine}");
    // A zone that is no zone is refused with its field, and nothing changes.
    let refused = app
        .call_as(
            &ana_http,
            "/api/account/profile",
            &[("bio", ""), ("time_zone", "../etc/passwd")],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert_eq!(
        overview(&app, &ana_http).await["bio"],
        "Designer.\nAsk me about fonts."
    );

    // Bo reads Ana's card; signed out, nobody does; a deactivated account has none.
    let card = app
        .call_as(&bo_http, "/api/chat/profile", &[("user", &ana)])
        .await;
    assert_eq!(card.status(), 200);
    let card: serde_json::Value = card.json().await.unwrap();
    assert_eq!(card["user"]["handle"], "ana", "{card}");
    assert_eq!(card["bio"], "Designer.\nAsk me about fonts.", "{card}");
    assert_eq!(card["time_zone"], "Europe/Lisbon", "{card}");
    let outsider = app
        .call_as(&app.new_client(), "/api/chat/profile", &[("user", &ana)])
        .await;
    assert_eq!(outsider.status(), 401);
    let id = protocol::ids::UserId(ana.parse().unwrap());
    app.store.deactivate_user(id).await.unwrap();
    let gone = app
        .call_as(&bo_http, "/api/chat/profile", &[("user", &ana)])
        .await;
    assert_eq!(gone.status(), 404);

    // Cleared, the profile is empty again.
    let bo_id = me(&app, &bo_http).await["id"].as_str().unwrap().to_string();
    let cleared = app
        .call_as(
            &bo_http,
            "/api/account/profile",
            &[("bio", "  "), ("time_zone", "")],
        )
        .await;
    assert!(cleared.status().is_success() || cleared.status().is_redirection());
    let card: serde_json::Value = app
        .call_as(&bo_http, "/api/chat/profile", &[("user", &bo_id)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (card["bio"].as_str(), card["time_zone"].as_str()),
        (Some(""), Some(""))
    );
}

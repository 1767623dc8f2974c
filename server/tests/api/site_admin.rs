//! The site admin's page through its server functions (`/api/admin/*`): only a site admin
//! lists accounts and deactivates one (not their own), and a deactivated account is
//! locked out at once.

use crate::helpers::{TestApp, spawn_app};

const PASSWORD: &str = "correct horse battery";

async fn sign_up(app: &TestApp, handle: &str) -> (reqwest::Client, String) {
    let client = app.new_client();
    let form = [
        ("handle", handle),
        ("display_name", handle),
        ("password", PASSWORD),
    ];
    let r = app.call_as(&client, "/api/auth/signup", &form).await;
    assert!(r.status().is_success() || r.status().is_redirection());
    let me: serde_json::Value = app
        .call_as(&client, "/api/auth/me", &[])
        .await
        .json()
        .await
        .unwrap();
    (client, me["id"].as_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_site_admin_finds_and_deactivates_accounts() {
    let app = spawn_app().await;
    let (ana, ana_id) = sign_up(&app, "ana").await;
    let (bo, bo_id) = sign_up(&app, "bo").await;

    // Not a site admin (yet): refused, and so is anyone signed out.
    let refused = app
        .call_as(&ana, "/api/admin/accounts", &[("prefix", "")])
        .await;
    assert_eq!(refused.status(), 403);
    let signed_out = app
        .call_as(&app.new_client(), "/api/admin/accounts", &[("prefix", "")])
        .await;
    assert_eq!(signed_out.status(), 401);
    let not_yet = app
        .call_as(&ana, "/api/admin/deactivate", &[("user", &bo_id)])
        .await;
    assert_eq!(not_yet.status(), 403);

    let ana_uid = protocol::ids::UserId(ana_id.parse().unwrap());
    app.store.set_site_admin(ana_uid, true).await.unwrap();
    let listed: serde_json::Value = app
        .call_as(&ana, "/api/admin/accounts", &[("prefix", "@B")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["handle"], "bo", "{listed}");
    assert_eq!(listed[0]["site_admin"], false, "{listed}");
    let all: serde_json::Value = app
        .call_as(&ana, "/api/admin/accounts", &[("prefix", "")])
        .await
        .json()
        .await
        .unwrap();
    let me = all
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["handle"] == "ana")
        .unwrap();
    assert_eq!(
        (me["me"].as_bool(), me["site_admin"].as_bool()),
        (Some(true), Some(true))
    );

    // One's own account is not deactivated from here; an unknown one is not found.
    let own = app
        .call_as(&ana, "/api/admin/deactivate", &[("user", &ana_id)])
        .await;
    assert_eq!(own.status(), 409);
    let unknown = app
        .call_as(
            &ana,
            "/api/admin/deactivate",
            &[("user", "01990000-0000-7000-8000-000000000000")],
        )
        .await;
    assert_eq!(unknown.status(), 404);

    // Bo is deactivated: signed out at once, cannot sign in, gone from the list.
    let done = app
        .call_as(&ana, "/api/admin/deactivate", &[("user", &bo_id)])
        .await;
    assert_eq!(done.status(), 200);
    let bo_me: serde_json::Value = app
        .call_as(&bo, "/api/auth/me", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(bo_me.is_null(), "{bo_me}");
    let again = app
        .call_as(
            &app.new_client(),
            "/api/auth/login",
            &[("handle", "bo"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(again.status(), 401);
    let listed: serde_json::Value = app
        .call_as(&ana, "/api/admin/accounts", &[("prefix", "bo")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, serde_json::json!([]));
    let twice = app
        .call_as(&ana, "/api/admin/deactivate", &[("user", &bo_id)])
        .await;
    assert_eq!(twice.status(), 404);

    // A revoked site admin is refused at once.
    app.store.set_site_admin(ana_uid, false).await.unwrap();
    let revoked = app
        .call_as(&ana, "/api/admin/accounts", &[("prefix", "")])
        .await;
    assert_eq!(revoked.status(), 403);
}

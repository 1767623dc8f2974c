//! The chat over HTTP: the server-rendered room page (first paint, escaping, privacy) and
//! the chat server functions under `/api/chat/*` (a room page with the reader's rights and
//! pins, a message's edit history).

use protocol::names::{Body, ClientMsgId, Handle};
use store::{RoomKind, WriteCommand};

use crate::helpers::{TestApp, spawn_app};

const PASSWORD: &str = "correct horse battery";

async fn signed_up(app: &TestApp, client: &reqwest::Client, handle: &str) -> store::User {
    let resp = client
        .post(app.url("/api/auth/signup"))
        .header("accept", "application/json")
        .form(&[
            ("handle", handle),
            ("display_name", &handle.to_uppercase()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success() || resp.status().is_redirection());
    app.store
        .user_by_handle(&Handle::parse(handle).unwrap())
        .await
        .unwrap()
        .expect("signed up")
}

/// [`post`], and its JSON body.
async fn post_json(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> serde_json::Value {
    app.call_as(client, path, form).await.json().await.unwrap()
}

#[tokio::test]
async fn a_room_page_is_server_rendered_with_its_latest_messages_as_text() {
    let app = spawn_app().await;
    let ana_http = app.new_client();
    let ana = signed_up(&app, &ana_http, "ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&bo, "lobby").await;
    app.store.join_public(room, ana.id).await.unwrap();
    let evil = r#"<script>alert("x")</script><img src=x onerror=alert(1)>"#;
    say(&app, room, bo.user.id, "c1", evil).await;

    let html = ana_http
        .get(app.url(&format!("/r/{room}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"data-testid="room-title""#), "{html}");
    assert!(html.contains("lobby"), "{html}");
    assert!(
        html.contains(r#"data-seq="1""#),
        "the first page is in the HTML: {html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;")
            || html.contains("&lt;script&gt;alert(\"x\")&lt;/script&gt;"),
        "the body is escaped: {html}"
    );
    assert!(!html.contains(r#"<script>alert("x")"#), "{html}");
    assert!(!html.contains("<img src=x"), "{html}");

    // The room list knows the unread message (written by Bo, after Ana's marker).
    let rooms = post_json(&app, &ana_http, "/api/chat/rooms", &[]).await;
    assert_eq!(rooms[0]["title"], "lobby", "{rooms}");
    assert_eq!(rooms[0]["unread"], 1, "{rooms}");
}

#[tokio::test]
async fn private_rooms_and_dms_are_refused_to_outsiders_over_http() {
    let app = spawn_app().await;
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let secret = app.room(&ana, RoomKind::Private, "secret").await;
    let dm = app.store.open_dm(ana.user.id, bo.user.id).await.unwrap().id;
    let cy_http = app.new_client();
    signed_up(&app, &cy_http, "cy").await;

    for room in [secret, dm] {
        let resp = app
            .call_as(&cy_http, "/api/chat/room", &[("room", &room.to_string())])
            .await;
        assert_eq!(resp.status(), 403);
        let html = cy_http
            .get(app.url(&format!("/r/{room}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("This room is private."), "{html}");
        assert!(!html.contains(r#"data-testid="room-title""#), "{html}");
    }
    let unknown = app
        .call_as(
            &cy_http,
            "/api/chat/room",
            &[("room", "01990000-0000-7000-8000-000000000000")],
        )
        .await;
    assert_eq!(unknown.status(), 404);

    // The directory lists public rooms only.
    app.public_room(&ana, "open-plan").await;
    let public = post_json(&app, &cy_http, "/api/chat/public_rooms", &[]).await;
    let names: Vec<&str> = public
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["open-plan"]);
}

#[tokio::test]
async fn people_are_found_by_handle_and_the_chat_api_needs_a_session() {
    let app = spawn_app().await;
    app.user("bo").await;
    app.user("bob_smith").await;
    app.user("al").await;
    let ana_http = app.new_client();
    signed_up(&app, &ana_http, "ana").await;
    let found = post_json(&app, &ana_http, "/api/chat/users", &[("prefix", "@BO")]).await;
    let handles: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["handle"].as_str().unwrap())
        .collect();
    assert_eq!(handles, ["bo", "bob_smith"]);
    // Never oneself.
    let me = post_json(&app, &ana_http, "/api/chat/users", &[("prefix", "an")]).await;
    assert_eq!(me, serde_json::json!([]));

    let anonymous = app.new_client();
    for path in ["/api/chat/rooms", "/api/chat/public_rooms"] {
        assert_eq!(
            app.call_as(&anonymous, path, &[]).await.status(),
            401,
            "{path}"
        );
    }
    let page = anonymous
        .get(app.url("/r/01990000-0000-7000-8000-000000000000"))
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"data-testid="signed-out""#), "{html}");
    assert!(html.contains(r#"href="/login""#), "{html}");
    assert!(!html.contains(r#"data-testid="chat""#), "{html}");
}

async fn say(
    app: &TestApp,
    room: protocol::ids::RoomId,
    author: protocol::ids::UserId,
    cmid: &str,
    body: &str,
) {
    app.store
        .write_batch(
            room,
            &[WriteCommand::Send {
                author,
                client_msg_id: ClientMsgId::parse(cmid).unwrap(),
                body: Body::parse(body).unwrap(),
                files: Vec::new(),
            }],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn search_over_http_finds_only_messages_of_the_reader_s_rooms() {
    let app = spawn_app().await;
    let ana_http = app.new_client();
    let ana = signed_up(&app, &ana_http, "ana").await;
    let bo = app.user("bo").await;
    let lobby = app.public_room(&bo, "lobby").await;
    app.store.join_public(lobby, ana.id).await.unwrap();
    let secret = app.room(&bo, RoomKind::Private, "secret").await;
    let elsewhere = app.public_room(&bo, "elsewhere").await;
    let dm = app.store.open_dm(ana.id, bo.user.id).await.unwrap().id;
    say(
        &app,
        lobby,
        bo.user.id,
        "l1",
        "the <b>falcon</b> has landed",
    )
    .await;
    say(&app, lobby, bo.user.id, "l2", "nothing to see").await;
    say(&app, secret, bo.user.id, "s1", "falcon plans, private").await;
    say(
        &app,
        elsewhere,
        bo.user.id,
        "e1",
        "falcon in a room ana never joined",
    )
    .await;
    say(&app, dm, bo.user.id, "d1", "Falconry tonight?").await;

    let resp = app
        .call_as(&ana_http, "/api/chat/search", &[("query", "FALC")])
        .await;
    assert_eq!(resp.status(), 200);
    let hits: serde_json::Value = resp.json().await.unwrap();
    let mut found: Vec<(String, String)> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["room"]["title"].as_str().unwrap().to_string(),
                h["message"]["body"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("BO".to_string(), "Falconry tonight?".to_string()),
            (
                "lobby".to_string(),
                "the <b>falcon</b> has landed".to_string()
            ),
        ],
        "{hits}"
    );
    let lobby_hit = hits
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["room"]["id"] == lobby.to_string())
        .unwrap();
    assert_eq!(lobby_hit["message"]["seq"], 1);
    assert_eq!(lobby_hit["message"]["author"]["handle"], "bo");

    let none = post_json(&app, &ana_http, "/api/chat/search", &[("query", "** &")]).await;
    assert_eq!(none, serde_json::json!([]));
    let stranger = app
        .call_as(
            &app.new_client(),
            "/api/chat/search",
            &[("query", "falcon")],
        )
        .await;
    assert_eq!(stranger.status(), 401);
}

#[tokio::test]
async fn a_room_page_reaches_back_to_the_message_being_jumped_to() {
    let app = spawn_app().await;
    let ana_http = app.new_client();
    signed_up(&app, &ana_http, "ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&bo, "lobby").await;
    for i in 1..=120 {
        say(
            &app,
            room,
            bo.user.id,
            &format!("c{i}"),
            &format!("message {i}"),
        )
        .await;
    }
    let seqs = |page: &serde_json::Value| -> Vec<u64> {
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect()
    };
    let id = room.to_string();
    let latest = post_json(&app, &ana_http, "/api/chat/room", &[("room", &id)]).await;
    assert_eq!(seqs(&latest), (71..=120).collect::<Vec<_>>());
    let jumped = post_json(
        &app,
        &ana_http,
        "/api/chat/room",
        &[("room", &id), ("at", "5")],
    )
    .await;
    assert_eq!(
        seqs(&jumped),
        (5..=120).collect::<Vec<_>>(),
        "from the target to the end"
    );
    assert_eq!(jumped["has_more"], true, "1 to 4 are still older");
    assert_eq!(jumped["last_seq"], 120);
    let within = post_json(
        &app,
        &ana_http,
        "/api/chat/room",
        &[("room", &id), ("at", "90")],
    )
    .await;
    assert_eq!(
        seqs(&within),
        (71..=120).collect::<Vec<_>>(),
        "already on the page"
    );
}

/// Writes `cmd` in `room` and returns the message it applied to.
async fn write(app: &TestApp, room: protocol::ids::RoomId, cmd: WriteCommand) -> store::Message {
    match app.store.write_batch(room, &[cmd]).await.unwrap().pop() {
        Some(Ok(store::WriteOutcome::Applied(e))) => e.message,
        other => panic!("expected an applied write, got {other:?}"),
    }
}

#[tokio::test]
async fn a_room_page_says_what_the_reader_may_do_and_a_history_is_read_by_readers_only() {
    let app = spawn_app().await;
    let (ana_http, bo_http, cy_http) = (app.new_client(), app.new_client(), app.new_client());
    let ana = signed_up(&app, &ana_http, "ana").await;
    let bo = signed_up(&app, &bo_http, "bo").await;
    let cy = signed_up(&app, &cy_http, "cy").await;
    let name = protocol::names::RoomName::parse("secret").unwrap();
    let room = app
        .store
        .create_room(ana.id, RoomKind::Private, &name, "")
        .await
        .unwrap()
        .id;
    app.store.invite(room, ana.id, bo.id).await.unwrap();
    let edit = |body: &str, message| WriteCommand::Edit {
        author: ana.id,
        message,
        body: Body::parse(body).unwrap(),
    };
    let sent = write(
        &app,
        room,
        WriteCommand::Send {
            author: ana.id,
            client_msg_id: ClientMsgId::parse("c1").unwrap(),
            body: Body::parse("helo").unwrap(),
            files: Vec::new(),
        },
    )
    .await;
    write(&app, room, edit("hello", sent.id)).await;
    write(&app, room, edit("hello!", sent.id)).await;
    let pin = WriteCommand::Pin {
        moderator: ana.id,
        message: sent.id,
        pin: true,
    };
    write(&app, room, pin).await;
    let (room_s, message_s) = (room.to_string(), sent.id.to_string());

    // Cy, invited, is removed with a ban (and is then an outsider below).
    app.store.invite(room, ana.id, cy.id).await.unwrap();
    let ban = WriteCommand::RemoveMember {
        moderator: ana.id,
        member: cy.id,
        ban: true,
    };
    write(&app, room, ban).await;

    // The owner's page: their role, the moderators, the pin as it is now, the ban.
    let page = post_json(&app, &ana_http, "/api/chat/room", &[("room", &room_s)]).await;
    assert_eq!(page["banned"][0]["handle"], "cy", "{page}");
    assert_eq!(page["rights"]["role"], "owner", "{page}");
    assert_eq!(page["rights"]["site_admin"], false, "{page}");
    assert_eq!(page["moderators"][0][0], ana.id.to_string(), "{page}");
    assert_eq!(page["moderators"][0][1], "owner", "{page}");
    assert_eq!(page["pins"][0]["body"], "hello!", "{page}");
    assert_eq!(page["archived"], false, "{page}");
    // A member's: a plain member, who has read nothing yet.
    let page = post_json(&app, &bo_http, "/api/chat/room", &[("room", &room_s)]).await;
    assert_eq!(page["rights"]["role"], "member", "{page}");
    assert_eq!(page["read_seq"], 0, "{page}");
    assert_eq!(
        page["banned"],
        serde_json::json!([]),
        "only moderators see bans: {page}"
    );

    // The history: the member reads the earlier bodies, oldest first; an outsider is refused.
    let form = [("room", room_s.as_str()), ("message", message_s.as_str())];
    let history = post_json(&app, &bo_http, "/api/chat/edit_history", &form).await;
    let bodies: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["helo", "hello"], "{history}");
    assert!(history[0]["replaced_at"].as_i64().unwrap() > 0);
    let refused = app.call_as(&cy_http, "/api/chat/edit_history", &form).await;
    assert_eq!(refused.status(), 403);
    let signed_out = app
        .call_as(&app.new_client(), "/api/chat/edit_history", &form)
        .await;
    assert_eq!(signed_out.status(), 401);

    // Deleted, the message has no history to read.
    let delete = WriteCommand::Delete {
        author: ana.id,
        message: sent.id,
    };
    write(&app, room, delete).await;
    let history = post_json(&app, &bo_http, "/api/chat/edit_history", &form).await;
    assert_eq!(history, serde_json::json!([]));
}

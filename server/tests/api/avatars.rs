//! Avatar pictures over real HTTP and WebSocket connections: an upload is cropped to its
//! centre square and scaled down, served to signed-in people only, `nosniff` and
//! sandboxed; the next message of its owner carries its version, even on a connection
//! opened before the change and on another node; a removal brings the initials back;
//! what is not a sound image, or is too large, is refused with nothing stored.

use protocol::ids::UserId;
use protocol::{ServerFrame, UserView};

use crate::helpers::{
    Backend, TestApp, TestUser, connect_user, error_code, header, png, spawn_app_on_with,
    spawn_cluster,
};
use crate::wsclient::{Client, send, subscribe};

async fn put_avatar(base: &str, user: &TestUser, bytes: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .put(format!("{base}/avatar"))
        .bearer_auth(&user.token)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

async fn get_avatar(base: &str, user: &TestUser, of: UserId) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{base}/avatars/{of}?v=1"))
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap()
}

/// The author of the next event in `room` that `ws` gets.
async fn next_author(ws: &mut Client, room: protocol::ids::RoomId) -> UserView {
    match ws
        .push_where(|f| matches!(f, ServerFrame::Event { room: r, .. } if *r == room))
        .await
    {
        ServerFrame::Event { message, .. } => message.author,
        _ => unreachable!(),
    }
}

async fn an_avatar_is_cropped_served_and_carried_by_the_next_message(app: TestApp) {
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&ana, "faces").await;
    // Both connect before the change: Ana's connection read her without a picture.
    let mut ana_ws = Client::new(app.connect_as(&ana).await);
    let mut bo_ws = Client::new(app.connect_as(&bo).await);
    ana_ws.ok(subscribe(room, None)).await;
    bo_ws.ok(subscribe(room, None)).await;
    let base = app.url("");

    let resp = put_avatar(&base, &ana, png(600, 300)).await;
    assert_eq!(resp.status(), 200);
    let view: UserView = resp.json().await.unwrap();
    let version = view.avatar.expect("a version");
    assert_eq!(view.id, ana.user.id);

    let served = get_avatar(&base, &bo, ana.user.id).await;
    assert_eq!(served.status(), 200);
    assert_eq!(header(&served, "content-type"), "image/jpeg");
    assert_eq!(header(&served, "x-content-type-options"), "nosniff");
    assert!(header(&served, "content-security-policy").contains("sandbox"));
    assert!(header(&served, "cache-control").contains("immutable"));
    let picture = image::load_from_memory(&served.bytes().await.unwrap()).unwrap();
    assert_eq!((picture.width(), picture.height()), (256, 256), "a square");

    ana_ws.ok(send(room, "m1", "with a face")).await;
    assert_eq!(next_author(&mut bo_ws, room).await.avatar, Some(version));
    let stored = app.store.user(ana.user.id).await.unwrap().unwrap();
    assert_eq!(stored.avatar_at, Some(version));

    // Signed out: nothing.
    let anonymous = reqwest::get(format!("{base}/avatars/{}", ana.user.id))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // Someone without a picture, and no one at all: the same 404.
    for of in [bo.user.id.to_string(), "not-a-user".to_string()] {
        let none = reqwest::Client::new()
            .get(format!("{base}/avatars/{of}"))
            .bearer_auth(&ana.token)
            .send()
            .await
            .unwrap();
        assert_eq!(none.status(), 404, "{of}");
        assert_eq!(error_code(none).await, "not_found");
    }

    let removed = reqwest::Client::new()
        .delete(format!("{base}/avatar"))
        .bearer_auth(&ana.token)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    assert_eq!(get_avatar(&base, &bo, ana.user.id).await.status(), 404);
    ana_ws.ok(send(room, "m2", "initials again")).await;
    assert_eq!(next_author(&mut bo_ws, room).await.avatar, None);
}

/// A PNG whose header claims `width` × `height`: a decompression bomb's header.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(1, 1);
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32fast::hash(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

async fn what_is_not_a_sound_small_image_is_refused_and_nothing_stored(backend: Backend) {
    let Some(app) = spawn_app_on_with(backend, |s| s.max_upload_bytes = 100_000).await else {
        return;
    };
    let ana = app.user("ana").await;
    let base = app.url("");
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec();
    let mut truncated = png(64, 64);
    truncated.truncate(40);
    for (what, bytes, status, code) in [
        ("an SVG", svg, 422, "bad_file"),
        (
            "HTML",
            b"<html><script>alert(1)</script></html>".to_vec(),
            422,
            "bad_file",
        ),
        (
            "a bomb's header",
            png_claiming(100_000, 100_000),
            422,
            "bad_file",
        ),
        ("a truncated PNG", truncated, 422, "bad_file"),
        ("nothing", Vec::new(), 400, "invalid_field"),
        ("too many bytes", vec![0u8; 100_001], 413, "too_large"),
    ] {
        let resp = put_avatar(&base, &ana, bytes).await;
        assert_eq!(resp.status(), status, "{what}");
        assert_eq!(error_code(resp).await, code, "{what}");
        assert_eq!(app.store.avatar(ana.user.id).await.unwrap(), None, "{what}");
        assert_eq!(
            app.store
                .user(ana.user.id)
                .await
                .unwrap()
                .unwrap()
                .avatar_at,
            None,
            "{what}"
        );
    }
}

on_both_backends!(an_avatar_is_cropped_served_and_carried_by_the_next_message);

mod refused {
    use super::*;
    on_both_backends_with_settings!(what_is_not_a_sound_small_image_is_refused_and_nothing_stored);
}

/// A picture set through one node is served by the other, and the messages its owner
/// sends through the other node carry it once that node has read them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_avatar_set_through_one_node_reaches_the_other() {
    let Some(cluster) = spawn_cluster(2).await else {
        return;
    };
    let (one, two) = (&cluster.nodes[0], &cluster.nodes[1]);
    let ana = one.user("ana").await;
    let bo = one.user("bo").await;
    let room = one.public_room(&ana, "faces").await;
    let mut ana_ws = Client::new(connect_user(two.addr, &ana).await);
    let mut bo_ws = Client::new(connect_user(one.addr, &bo).await);
    ana_ws.ok(subscribe(room, None)).await;
    bo_ws.ok(subscribe(room, None)).await;

    let resp = put_avatar(&one.url(""), &ana, png(100, 120)).await;
    assert_eq!(resp.status(), 200);
    let version = resp.json::<UserView>().await.unwrap().avatar.unwrap();
    let served = get_avatar(&two.url(""), &bo, ana.user.id).await;
    assert_eq!(served.status(), 200);
    let picture = image::load_from_memory(&served.bytes().await.unwrap()).unwrap();
    assert_eq!((picture.width(), picture.height()), (100, 100));

    // Node two hears of the change through the broker, a moment later.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    for n in 0.. {
        ana_ws.ok(send(room, &format!("m{n}"), "hello")).await;
        if next_author(&mut bo_ws, room).await.avatar == Some(version) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "node two never carried the new picture"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

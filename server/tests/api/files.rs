//! Files over real HTTP and WebSocket connections: an upload is sniffed, stored and sent
//! as a reference; only readers of the room may fetch it, by any node of a cluster; what
//! could run as our origin is served as a download; oversized and malformed uploads are
//! refused with nothing stored; deleting the message takes its files away at once.

use protocol::ids::RoomId;
use protocol::{ErrorCode, FileView, ServerFrame};
use store::RoomKind;

use crate::helpers::{
    Backend, TestApp, TestUser, connect_user, error_code, header, png, spawn_app_on_with,
    spawn_cluster, upload_to,
};
use crate::wsclient::{Client, assert_error, subscribe};

async fn upload(
    app: &TestApp,
    user: &TestUser,
    room: RoomId,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    upload_to(&app.url(""), user, room, name, bytes).await
}

async fn uploaded(
    app: &TestApp,
    user: &TestUser,
    room: RoomId,
    name: &str,
    bytes: Vec<u8>,
) -> FileView {
    let resp = upload(app, user, room, name, bytes).await;
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    resp.json().await.unwrap()
}

async fn fetch(base: &str, user: &TestUser, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap()
}

fn send_files(room: RoomId, cmid: &str, body: &str, files: &[&FileView]) -> serde_json::Value {
    serde_json::json!({
        "type": "send", "room": room, "client_msg_id": cmid, "body": body,
        "files": files.iter().map(|f| f.id).collect::<Vec<_>>(),
    })
}

async fn an_image_travels_as_a_reference_and_is_served_inline_with_a_thumbnail(backend: Backend) {
    let Some(app) = spawn_app_on_with(backend, |_| {}).await else {
        return;
    };
    let ana = app.user("ana").await;
    let bo = app.user("bo").await;
    let room = app.public_room(&ana, "general").await;
    let mut ana_ws = Client::new(app.connect_as(&ana).await);
    let mut bo_ws = Client::new(app.connect_as(&bo).await);
    ana_ws.ok(subscribe(room, None)).await;
    bo_ws.ok(subscribe(room, None)).await;

    let image = png(800, 600);
    let file = uploaded(&app, &ana, room, "holiday.png", image.clone()).await;
    assert_eq!(file.name, "holiday.png");
    assert_eq!(file.size, image.len() as u64);
    assert_eq!(file.content_type, "image/png");
    assert_eq!(file.image.map(|i| (i.width, i.height)), Some((800, 600)));

    ana_ws
        .ok(send_files(room, "m1", "look at this", &[&file]))
        .await;
    let event = bo_ws
        .push_where(|f| matches!(f, ServerFrame::Event { room: r, .. } if *r == room))
        .await;
    let ServerFrame::Event { message, .. } = event else {
        unreachable!()
    };
    assert_eq!(message.body, "look at this");
    assert_eq!(
        message.files,
        vec![file.clone()],
        "the event carries the reference"
    );

    let base = app.url("");
    let full = fetch(&base, &bo, &file.url()).await;
    assert_eq!(full.status(), 200);
    assert_eq!(header(&full, "content-type"), "image/png");
    assert_eq!(header(&full, "x-content-type-options"), "nosniff");
    assert!(header(&full, "content-security-policy").starts_with("sandbox"));
    assert!(header(&full, "content-disposition").starts_with("inline;"));
    assert_eq!(
        full.bytes().await.unwrap().to_vec(),
        image,
        "the bytes as uploaded"
    );

    let thumb = fetch(&base, &bo, &file.thumb_url().unwrap()).await;
    assert_eq!(thumb.status(), 200);
    assert_eq!(header(&thumb, "content-type"), "image/jpeg");
    let small = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((small.width(), small.height()), (400, 300));

    // A later page (a new subscriber's snapshot) lists the file too.
    let cy = app.user("cy").await;
    let mut cy_ws = Client::new(app.connect_as(&cy).await);
    cy_ws.ok(subscribe(room, None)).await;
    let snapshot = cy_ws
        .push_where(|f| matches!(f, ServerFrame::Snapshot { .. }))
        .await;
    let ServerFrame::Snapshot { messages, .. } = snapshot else {
        unreachable!()
    };
    assert_eq!(messages[0].files, vec![file]);
}

async fn only_readers_of_the_room_may_fetch_its_files_and_only_members_upload(backend: Backend) {
    let Some(app) = spawn_app_on_with(backend, |_| {}).await else {
        return;
    };
    let ana = app.user("ana").await;
    let eve = app.user("eve").await;
    let secret = app.room(&ana, RoomKind::Private, "secret").await;
    let file = uploaded(&app, &ana, secret, "plan.txt", b"the plan".to_vec()).await;
    let mut ws = Client::new(app.connect_as(&ana).await);
    ws.ok(subscribe(secret, None)).await;
    ws.ok(send_files(secret, "m1", "the plan", &[&file])).await;

    let base = app.url("");
    let guessed = fetch(&base, &eve, &file.url()).await;
    assert_eq!(guessed.status(), 404, "a non-member guessing the URL");
    assert_eq!(error_code(guessed).await, "not_found");
    let unknown = fetch(&base, &eve, &format!("/files/{}", uuid::Uuid::now_v7())).await;
    assert_eq!(unknown.status(), 404, "the same answer as an unknown id");
    assert_eq!(fetch(&base, &eve, "/files/not-an-id").await.status(), 404);
    let anonymous = reqwest::get(app.url(&file.url())).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(fetch(&base, &ana, &file.url()).await.status(), 200);

    let refused = upload(&app, &eve, secret, "x.txt", b"x".to_vec()).await;
    assert_eq!(refused.status(), 403, "only members upload");
    assert_eq!(error_code(refused).await, "forbidden");
    let nowhere = upload(
        &app,
        &eve,
        RoomId(uuid::Uuid::now_v7()),
        "x.txt",
        b"x".to_vec(),
    )
    .await;
    assert_eq!(nowhere.status(), 404);

    // A member's send may not attach someone else's upload, nor more than ten files.
    let general = app.public_room(&ana, "general").await;
    let mut eve_ws = Client::new(app.connect_as(&eve).await);
    eve_ws.ok(subscribe(general, None)).await;
    let anas = uploaded(&app, &ana, general, "ana.txt", b"mine".to_vec()).await;
    let reply = eve_ws
        .request(send_files(general, "e1", "stolen", &[&anas]))
        .await;
    assert_error(&reply, ErrorCode::NotFound);
    let eves = uploaded(&app, &eve, general, "eve.txt", b"hers".to_vec()).await;
    let many: Vec<&FileView> = std::iter::repeat_n(&eves, 11).collect();
    let reply = eve_ws
        .request(send_files(general, "e2", "many", &many))
        .await;
    assert_error(&reply, ErrorCode::InvalidField);
}

async fn what_could_run_is_served_as_a_download(backend: Backend) {
    let Some(app) = spawn_app_on_with(backend, |_| {}).await else {
        return;
    };
    let ana = app.user("ana").await;
    let room = app.public_room(&ana, "general").await;
    let risky = [
        (
            "page.html",
            &b"<!doctype html><html><script>alert(document.cookie)</script></html>"[..],
        ),
        (
            "logo.svg",
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"[..],
        ),
        ("photo.png", &b"<html><script>alert(1)</script></html>"[..]),
    ];
    let base = app.url("");
    for (name, bytes) in risky {
        let file = uploaded(&app, &ana, room, name, bytes.to_vec()).await;
        assert!(
            file.image.is_none(),
            "{name}: not an image, whatever its name"
        );
        assert!(
            !file.content_type.starts_with("image/"),
            "{name}: {}",
            file.content_type
        );
        let resp = fetch(&base, &ana, &file.url()).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(
            header(&resp, "content-type"),
            "application/octet-stream",
            "{name}"
        );
        assert!(
            header(&resp, "content-disposition").starts_with("attachment;"),
            "{name}"
        );
        assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
        assert!(header(&resp, "content-security-policy").starts_with("sandbox"));
        assert_eq!(
            fetch(&base, &ana, &format!("/files/{}/thumb", file.id))
                .await
                .status(),
            404
        );
    }
}

async fn oversized_and_malformed_uploads_are_refused_and_nothing_is_stored(backend: Backend) {
    let Some(app) = spawn_app_on_with(backend, |s| s.max_upload_bytes = 100_000).await else {
        return;
    };
    let ana = app.user("ana").await;
    let room = app.public_room(&ana, "general").await;

    let big = upload(&app, &ana, room, "big.bin", vec![7u8; 100_001]).await;
    assert_eq!(big.status(), 413);
    assert_eq!(error_code(big).await, "too_large");
    let mut truncated = png(300, 300);
    truncated.truncate(60);
    let broken = upload(&app, &ana, room, "broken.png", truncated).await;
    assert_eq!(broken.status(), 422);
    assert_eq!(error_code(broken).await, "bad_file");
    // A decompression bomb: a valid header claiming 100,000 × 100,000 pixels.
    let mut bomb = png(1, 1);
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32fast::hash(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let refused = upload(&app, &ana, room, "bomb.png", bomb).await;
    assert_eq!(refused.status(), 422);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "bad_file");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("too large in pixels"),
        "refused for its size, from the header: {body}"
    );
    let empty = upload(&app, &ana, room, "empty.txt", Vec::new()).await;
    assert_eq!(empty.status(), 400);

    assert_eq!(
        app.store.purge_files(i64::MAX).await.unwrap(),
        0,
        "no refused upload left a record"
    );
    if matches!(backend, Backend::Sqlite) {
        let on_disk = std::fs::read_dir(app.data_dir().join("files"))
            .unwrap()
            .count();
        assert_eq!(on_disk, 0, "no refused upload left bytes on disk");
    }
    // Exactly the limit is taken.
    let at_limit = upload(&app, &ana, room, "fits.bin", vec![7u8; 100_000]).await;
    assert_eq!(at_limit.status(), 201);
}

async fn deleting_a_message_takes_its_files_away_at_once(backend: Backend) {
    let Some(app) = spawn_app_on_with(backend, |_| {}).await else {
        return;
    };
    let ana = app.user("ana").await;
    let room = app.public_room(&ana, "general").await;
    let file = uploaded(&app, &ana, room, "oops.png", png(10, 10)).await;
    let mut ws = Client::new(app.connect_as(&ana).await);
    ws.ok(subscribe(room, None)).await;
    let ServerFrame::Ack { info, .. } = ws.ok(send_files(room, "m1", "oops", &[&file])).await
    else {
        panic!("acked");
    };
    let base = app.url("");
    assert_eq!(fetch(&base, &ana, &file.url()).await.status(), 200);
    ws.ok(
        serde_json::json!({"type": "delete", "room": room, "message_id": info.message_id.unwrap()}),
    )
    .await;
    assert_eq!(
        fetch(&base, &ana, &file.url()).await.status(),
        404,
        "gone at once"
    );
    assert_eq!(
        fetch(&base, &ana, &file.thumb_url().unwrap())
            .await
            .status(),
        404
    );
    assert_eq!(
        app.store.purge_files(0).await.unwrap(),
        1,
        "its bytes are purged"
    );
    if matches!(backend, Backend::Sqlite) {
        let on_disk = std::fs::read_dir(app.data_dir().join("files"))
            .unwrap()
            .count();
        assert_eq!(on_disk, 0, "the bytes left the disk");
    }
}

on_both_backends_with_settings!(
    an_image_travels_as_a_reference_and_is_served_inline_with_a_thumbnail,
    only_readers_of_the_room_may_fetch_its_files_and_only_members_upload,
    what_could_run_is_served_as_a_download,
    oversized_and_malformed_uploads_are_refused_and_nothing_is_stored,
    deleting_a_message_takes_its_files_away_at_once,
);

/// A file uploaded through one node is served by the other, and its message reaches
/// the other node's subscribers with the reference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uploaded_through_one_node_is_served_by_every_node() {
    let Some(cluster) = spawn_cluster(2).await else {
        return;
    };
    let (one, two) = (&cluster.nodes[0], &cluster.nodes[1]);
    let ana = one.user("ana").await;
    let bo = one.user("bo").await;
    let room = one.public_room(&ana, "general").await;
    let mut bo_ws = Client::new(connect_user(two.addr, &bo).await);
    bo_ws.ok(subscribe(room, None)).await;
    let mut ana_ws = Client::new(connect_user(one.addr, &ana).await);
    ana_ws.ok(subscribe(room, None)).await;
    let image = png(64, 48);
    let resp = upload_to(&one.url(""), &ana, room, "pic.png", image.clone()).await;
    assert_eq!(resp.status(), 201);
    let file: FileView = resp.json().await.unwrap();
    ana_ws
        .ok(send_files(room, "m1", "from node one", &[&file]))
        .await;
    let event = bo_ws
        .push_where(|f| matches!(f, ServerFrame::Event { room: r, .. } if *r == room))
        .await;
    let ServerFrame::Event { message, .. } = event else {
        unreachable!()
    };
    assert_eq!(message.files, vec![file.clone()]);
    let served = fetch(&two.url(""), &bo, &file.url()).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap().to_vec(), image);
    assert_eq!(
        fetch(&two.url(""), &bo, &file.thumb_url().unwrap())
            .await
            .status(),
        200
    );
}

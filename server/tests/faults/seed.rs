//! Seeding the SQLite store of a child server before it starts: users with API tokens and
//! one public room, written straight into the data folder the child will open.

use protocol::ids::RoomId;
use protocol::names::{DisplayName, Handle, RoomName};
use std::path::Path;
use std::sync::Arc;

use crate::helpers::TestUser;

/// The store in `data_dir` (SQLite, as the child opens it with no `DATABASE_URL`).
pub async fn open_store(data_dir: &Path) -> Arc<dyn store::Store> {
    store::open(&store::StoreConfig {
        database_url: None,
        data_dir: data_dir.to_path_buf(),
    })
    .await
    .expect("open the SQLite store")
}

/// A user with a placeholder password hash and an API token, as `TestApp::user` makes.
pub async fn user(store: &dyn store::Store, handle: &str) -> TestUser {
    let user = store
        .create_user(
            &Handle::parse(handle).unwrap(),
            &DisplayName::parse(&handle.to_uppercase()).unwrap(),
            "$argon2id$not-a-real-hash",
        )
        .await
        .expect("create user");
    let token = app::ssr::tokens::generate();
    let hash = app::ssr::tokens::lookup_hash(&token).unwrap();
    store
        .create_api_token(user.id, "test", &hash)
        .await
        .expect("create token");
    TestUser { user, token }
}

/// Users for `handles` and a public room `room` owned by the first of them, with every
/// one of them a member already (so that no test client's subscribe has to join it).
pub async fn users_and_room(
    data_dir: &Path,
    handles: &[String],
    room: &str,
) -> (Vec<TestUser>, RoomId) {
    let store = open_store(data_dir).await;
    let mut users = Vec::with_capacity(handles.len());
    for handle in handles {
        users.push(user(&*store, handle).await);
    }
    let room = store
        .create_room(
            users[0].user.id,
            store::RoomKind::Public,
            &RoomName::parse(room).unwrap(),
            "",
        )
        .await
        .expect("create room")
        .id;
    for u in &users[1..] {
        store.join_public(room, u.user.id).await.expect("join");
    }
    (users, room)
}

//! Browser sessions: tower-sessions with its records kept in our [`Store`] (both
//! backends), and the signed-in user of a session.
//!
//! The cookie is `confab_session`: HttpOnly, SameSite=Lax, Secure when configured, and
//! expires after 30 days without use. Log-in cycles the session id (no fixation); log-out
//! deletes the record.

use async_trait::async_trait;
use protocol::ids::UserId;
use std::sync::Arc;
use store::{Store, User};
use tower_sessions::Session;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// Session key holding the signed-in user's id.
pub const USER_KEY: &str = "user_id";

/// The name of the session cookie.
pub const COOKIE_NAME: &str = "confab_session";

/// tower-sessions' store, backed by [`Store`]'s `sessions` table.
#[derive(Clone)]
pub struct StoreSessions {
    store: Arc<dyn Store>,
}

impl StoreSessions {
    pub fn new(store: Arc<dyn Store>) -> StoreSessions {
        StoreSessions { store }
    }

    /// Deletes expired records; run periodically by the server.
    pub async fn delete_expired(&self) -> Result<u64, store::StoreError> {
        self.store
            .session_delete_expired(time::OffsetDateTime::now_utc().unix_timestamp())
            .await
    }
}

impl std::fmt::Debug for StoreSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSessions")
            .field("engine", &self.store.engine())
            .finish()
    }
}

fn backend(err: store::StoreError) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    serde_json::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

/// The user a record is signed in as (kept beside the record, so a person's sessions can
/// be listed and ended).
fn owner(record: &Record) -> Option<UserId> {
    record
        .data
        .get(USER_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

#[async_trait]
impl SessionStore for StoreSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are random 128-bit values; on the rare collision, draw another.
        loop {
            let data = encode(record)?;
            let id = record.id.to_string();
            let expiry = record.expiry_date.unix_timestamp();
            if self
                .store
                .session_create(&id, &data, expiry, owner(record))
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = encode(record)?;
        self.store
            .session_save(
                &record.id.to_string(),
                &data,
                record.expiry_date.unix_timestamp(),
                owner(record),
            )
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match self
            .store
            .session_load(&id.to_string(), now)
            .await
            .map_err(backend)?
        {
            Some(data) => serde_json::from_slice(&data)
                .map(Some)
                .map_err(|e| session_store::Error::Decode(e.to_string())),
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store
            .session_delete(&id.to_string())
            .await
            .map_err(backend)
    }
}

/// The user signed in on `session`, if any (and if their account still exists and is
/// active).
pub async fn current_user(
    session: &Session,
    store: &dyn Store,
) -> Result<Option<User>, SessionError> {
    let Some(id) = session
        .get::<UserId>(USER_KEY)
        .await
        .map_err(SessionError::Session)?
    else {
        return Ok(None);
    };
    match store.user(id).await.map_err(SessionError::Store)? {
        Some(user) if user.is_active() => Ok(Some(user)),
        _ => {
            // The account is gone or deactivated: the session must not keep working.
            session.flush().await.map_err(SessionError::Session)?;
            Ok(None)
        }
    }
}

/// Makes `session` belong to `user`, under a fresh session id.
pub async fn sign_in(session: &Session, user: UserId) -> Result<(), SessionError> {
    session.cycle_id().await.map_err(SessionError::Session)?;
    session
        .insert(USER_KEY, user)
        .await
        .map_err(SessionError::Session)
}

/// Ends `session` (its record is deleted and the cookie cleared).
pub async fn sign_out(session: &Session) -> Result<(), SessionError> {
    session.flush().await.map_err(SessionError::Session)
}

/// A session could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("session: {0}")]
    Session(tower_sessions::session::Error),
    #[error("store: {0}")]
    Store(store::StoreError),
}

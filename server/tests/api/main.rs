//! Integration tests: each starts the real server on a random port and talks to it over
//! real HTTP and WebSocket connections. One binary, one module per area.

/// Cases that take a test server, run once on each backend.
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let app = crate::helpers::spawn_app_on(crate::helpers::Backend::Sqlite).await.unwrap();
                    super::$case(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(app) = crate::helpers::spawn_app_on(crate::helpers::Backend::Postgres).await else { return };
                    super::$case(app).await;
                }
            )*
        }
    };
}

/// Cases that start their own server with special settings take the backend.
macro_rules! on_both_backends_with_settings {
    ($($case:ident),* $(,)?) => {
        mod sqlite_gateway {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres_gateway {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Backend::Postgres).await;
                }
            )*
        }
    };
}

mod abuse;
mod accounts;
mod avatars;
mod broker_contract;
mod chat_pages;
mod child_node;
mod cluster;
mod cluster_pause;
mod cluster_resume;
mod cluster_sharded;
mod conformance;
mod files;
mod frame_sequences;
mod gateway;
mod group_dms;
mod helpers;
mod leave;
mod mentions;
mod moderation;
mod pages;
mod pipelining;
mod presence;
mod reactions;
mod realtime;
mod receipts;
mod redis_cluster;
mod roster;
mod settings;
mod silent;
mod site_admin;
mod sse;
mod threads;
mod unread_again;
mod wsclient;

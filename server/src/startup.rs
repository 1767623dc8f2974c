//! [`Application`]: turns [`Settings`] into a bound, running server.
//!
//! `build` opens the store (running migrations), binds the listener (port 0 works, which
//! tests use) and assembles the state; `run_until_stopped` serves until the given future
//! resolves, then shuts down in order: stop accepting, close every WebSocket with 1012,
//! wait (bounded) for their tasks.

use anyhow::Context;
use leptos::prelude::*;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

use crate::config::{DEFAULT_BIND, Settings};
use crate::gateway::Gateway;
use crate::state::AppState;

/// How often expired sessions are deleted and idle rate-limit keys forgotten.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(600);

/// A server that has bound its port and is ready to run.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    addr: SocketAddr,
}

impl Application {
    /// Opens the store, binds the listener and builds the application state.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let mut leptos_options = get_configuration(None)
            .context("reading Leptos configuration (LEPTOS_* variables)")?
            .leptos_options;
        let bind = match settings.bind {
            Some(addr) => addr,
            None if std::env::var_os("LEPTOS_SITE_ADDR").is_some() => leptos_options.site_addr,
            None => DEFAULT_BIND.parse().expect("the default address parses"),
        };
        if let Some(root) = &settings.site_root {
            leptos_options.site_root = root.to_string_lossy().into_owned().into();
        }
        // The bundle's names are hashed exactly when the build left its hash file beside
        // this binary (a release build), whatever the environment says.
        leptos_options.hash_files = std::env::current_exe().is_ok_and(|exe| {
            crate::http::assets::hash_file_beside(&exe, &leptos_options.hash_file).is_some()
        });

        crate::metrics::install();
        let store = store::open(&settings.store_config())
            .await
            .context("opening the store")?;
        tracing::info!(engine = store.engine(), "store ready");

        let listener = crate::http::listener::bind(bind, settings.listen_backlog)
            .with_context(|| format!("binding {bind}"))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        leptos_options.site_addr = addr;

        let limits = Arc::new(app::ssr::limits::Limits::with_signups(
            settings.signup_burst,
        ));
        let settings = Arc::new(settings);
        // The one place the broker engine is chosen.
        use crate::config::RedisTarget;
        let broker: Arc<dyn crate::gateway::Broker> = match settings.redis() {
            None => Arc::new(crate::gateway::MemoryBroker::default()),
            Some(RedisTarget::Single(url)) => Arc::new(
                crate::gateway::broker::RedisBroker::connect(&url, &settings.redis_prefix)
                    .await
                    .context("connecting to Redis (REDIS_URL)")?,
            ),
            Some(RedisTarget::Cluster(seeds)) => Arc::new(
                crate::gateway::broker::RedisClusterBroker::connect(&seeds, &settings.redis_prefix)
                    .await
                    .context("connecting to the Redis Cluster (REDIS_URL)")?,
            ),
        };
        tracing::info!(engine = broker.engine(), "broker ready");
        let cluster_presence = match settings.redis() {
            None => None,
            Some(RedisTarget::Single(url)) => Some(
                crate::gateway::presence::RedisPresence::connect(&url, &settings.redis_prefix)
                    .await
                    .context("connecting to Redis for presence (REDIS_URL)")?,
            ),
            Some(RedisTarget::Cluster(seeds)) => Some(
                crate::gateway::presence::RedisPresence::connect_cluster(
                    &seeds,
                    &settings.redis_prefix,
                )
                .await
                .context("connecting to the Redis Cluster for presence (REDIS_URL)")?,
            ),
        };
        let gateway =
            Gateway::with_engines(settings.clone(), store.clone(), broker, cluster_presence);
        let person_changed = {
            let gateway = gateway.clone();
            std::sync::Arc::new(move |user: &store::User| gateway.person_changed(user))
        };
        let state = AppState {
            leptos_options,
            gateway,
            settings,
            app: app::ssr::AppContext {
                info: app::ssr::ServerInfo {
                    server_name: crate::SERVER_NAME.to_string(),
                    started: Instant::now(),
                },
                store,
                limits,
                person_changed,
            },
        };
        Ok(Application {
            listener,
            state,
            addr,
        })
    }

    /// The store the server runs on (tests seed data through it).
    pub fn store(&self) -> std::sync::Arc<dyn store::Store> {
        self.state.app.store.clone()
    }

    /// The gateway (tests read its counters).
    pub fn gateway(&self) -> Gateway {
        self.state.gateway.clone()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the server listens on (useful after binding port 0).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Serves until `stop` resolves, then shuts down gracefully.
    pub async fn run_until_stopped(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            listener,
            state,
            addr,
        } = self;
        let gateway = state.gateway.clone();
        let grace = Duration::from_secs(state.settings.shutdown_grace_secs);
        let state_header_timeout = state.settings.header_timeout_secs;
        let housekeeping = tokio::spawn(housekeeping(state.clone()));
        let metrics_upkeep = tokio::spawn(crate::metrics::upkeep());
        let router = crate::http::router(state);

        tracing::info!(%addr, "confab listening on http://{addr}");
        let shutdown_token = gateway.shutdown_token();
        let header_timeout = Duration::from_secs(state_header_timeout);
        crate::http::serve::serve(listener, router, header_timeout, grace, async move {
            stop.await;
            // Upgraded WebSockets and event streams are not HTTP requests any more: the
            // gateway closes them itself.
            shutdown_token.cancel();
        })
        .await;
        gateway.wait_closed(grace).await;
        housekeeping.abort();
        metrics_upkeep.abort();
        Ok(())
    }
}

/// Periodic clean-up: expired sessions, recovered rate-limit keys.
async fn housekeeping(state: AppState) {
    let sessions = app::ssr::sessions::StoreSessions::new(state.app.store.clone());
    let mut tick = tokio::time::interval(HOUSEKEEPING_EVERY);
    loop {
        tick.tick().await;
        match sessions.delete_expired().await {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "expired sessions removed"),
            Ok(_) => {}
            Err(err) => tracing::warn!(cause = %err, "removing expired sessions failed"),
        }
        state.app.limits.prune();
    }
}

//! The accept loop: serves the router over HTTP/1.1 (with upgrades, for the WebSocket) on
//! the bound listener until told to stop, then lets the requests in flight finish.
//!
//! `axum::serve` installs no timer, which leaves hyper's header read timeout inert, and it
//! first reads a connection's opening bytes (to tell HTTP/1 from HTTP/2) with no time
//! limit at all: a client could hold a connection forever by sending nothing, or by never
//! finishing its request head (slowloris). This loop speaks HTTP/1.1 only, with a timer and
//! `--header-timeout-secs`, and hands every request the peer's address as
//! [`ConnectInfo`] (the per-address connection cap counts by it).

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// How long to pause accepting after an accept error (out of file descriptors, say), so
/// that the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `router` on `listener` until `stop` resolves, then waits up to `grace` for the
/// requests in flight. Upgraded connections are no longer HTTP's: the gateway closes them.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    grace: Duration,
    stop: impl Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    // Dropped when the loop ends, which tells every connection to finish gracefully.
    let (stopping, stopped) = tokio::sync::watch::channel(());
    let connections = TaskTracker::new();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(cause = %err, "accept failed");
                    metrics::counter!("confab_accept_errors_total").increment(1);
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let mut stopped = stopped.clone();
        connections.spawn(async move {
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stopped.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(err) = result {
                tracing::debug!(cause = %err, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    drop(stopping);
    connections.close();
    if tokio::time::timeout(grace, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("HTTP requests still in flight after the grace period");
    }
}

//! Prometheus metrics: the `metrics` facade records everywhere (the store's writer
//! included); this module installs the process-wide recorder once and renders `/metrics`.
//!
//! Names (all prefixed `confab_`):
//! - `connections_open` (gauge), `rooms_with_subscribers` and `recent_event_bytes`
//!   (gauges, read at scrape time), `fills_total{from="memory"|"store"}`
//! - `frames_in_total{type}` — client requests by frame type; `frames_out_total{type}` —
//!   frames written to sockets and event streams, by frame type
//! - `dropped_ephemeral_total`, `catch_ups_total`, `slow_consumer_disconnects_total`,
//!   `rate_limited_total`, `resumes_total{outcome="delta"|"snapshot"}`,
//!   `flood_disconnects_total`, `connections_refused_total{reason}`,
//!   `cross_site_refused_total`, `accept_errors_total`, `runtime_alive_tasks` (gauge, read
//!   at scrape time)
//! - `append_batch_size`, `commit_seconds` (histograms, from the group-commit writer),
//!   `send_ack_seconds` (a `send` received → its ack queued), `delivery_seconds` (an
//!   event committed → written to a subscriber; recorded for the first, oldest, event of
//!   each socket write, so one write carrying many events counts once)
//! - `streams_open` (gauge): Server-Sent Events streams open now
//! - `files_uploaded_total`, `files_uploaded_bytes_total`, `files_purged_total` (counters)
//! - `broker_published_total{kind}`, `broker_received_total{kind}` (counters) and
//!   `broker_lag_seconds{kind}` (histogram, publish → receipt) from the gateway's broker
//!   (their handles registered once per kind, like the per-frame ones); from the Redis
//!   broker `broker_dropped_total`, `broker_publish_batch_size` (histogram),
//!   `broker_reconnects_total`, `broker_malformed_total`

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
static DELIVERY: OnceLock<Delivery> = OnceLock::new();
static BROKER: OnceLock<Broker> = OnceLock::new();

/// The metrics recorded for every frame a connection writes, registered once. The
/// `counter!`/`histogram!` macros build the labelled key and look it up in the registry
/// on every call; on the delivery path that is once per frame per subscriber.
pub struct Delivery {
    /// `frames_out_total{type}`, in the order of `gateway::encode::FRAME_TYPES`.
    frames_out: Vec<metrics::Counter>,
    /// `frames_out_total{type="event"}`, counted per write.
    events_out: metrics::Counter,
    /// `delivery_seconds`: an event committed → written to a subscriber.
    pub delivery_seconds: metrics::Histogram,
}

impl Delivery {
    /// Counts a frame written, by its place in `FRAME_TYPES`.
    pub fn frame_out(&self, type_index: usize) {
        if let Some(counter) = self.frames_out.get(type_index) {
            counter.increment(1);
        }
    }

    /// Counts `n` room events written in one go.
    pub fn events_out(&self, n: u32) {
        self.events_out.increment(u64::from(n));
    }
}

/// The per-frame metrics' handles (the recorder is installed first, so they reach it).
pub fn delivery() -> &'static Delivery {
    DELIVERY.get_or_init(|| {
        install();
        Delivery {
            frames_out: crate::gateway::encode::FRAME_TYPES
                .iter()
                .map(|kind| metrics::counter!("confab_frames_out_total", "type" => *kind))
                .collect(),
            events_out: metrics::counter!("confab_frames_out_total", "type" => "event"),
            delivery_seconds: metrics::histogram!("confab_delivery_seconds"),
        }
    })
}

/// The metrics recorded for every envelope the gateway publishes or receives, registered
/// once per kind (in the order of `gateway::broker::KINDS`).
pub struct Broker {
    published: Vec<metrics::Counter>,
    received: Vec<metrics::Counter>,
    lag_seconds: Vec<metrics::Histogram>,
}

impl Broker {
    /// Counts an envelope of the kind at `kind_index` published.
    pub fn published(&self, kind_index: usize) {
        if let Some(counter) = self.published.get(kind_index) {
            counter.increment(1);
        }
    }

    /// Counts an envelope of the kind at `kind_index` received, `lag_seconds` after it
    /// was published.
    pub fn received(&self, kind_index: usize, lag_seconds: f64) {
        if let Some(counter) = self.received.get(kind_index) {
            counter.increment(1);
        }
        if let Some(histogram) = self.lag_seconds.get(kind_index) {
            histogram.record(lag_seconds);
        }
    }
}

/// The broker metrics' handles.
pub fn broker() -> &'static Broker {
    BROKER.get_or_init(|| {
        install();
        let kinds = crate::gateway::broker::KINDS;
        Broker {
            published: kinds
                .iter()
                .map(|kind| metrics::counter!("confab_broker_published_total", "kind" => *kind))
                .collect(),
            received: kinds
                .iter()
                .map(|kind| metrics::counter!("confab_broker_received_total", "kind" => *kind))
                .collect(),
            lag_seconds: kinds
                .iter()
                .map(|kind| metrics::histogram!("confab_broker_lag_seconds", "kind" => *kind))
                .collect(),
        }
    })
}

/// Histogram buckets: seconds from 100 µs to 10 s, and batch sizes up to 512.
const SECONDS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0,
];
const SIZES: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// How often histogram samples are folded into their buckets.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Folds recorded histogram samples into their buckets every few seconds. Without it the
/// exporter keeps every sample until `/metrics` is scraped: a server nobody scrapes grows
/// by a few hundred bytes per message (the fault tests' long run found it).
pub async fn upkeep() {
    let handle = install();
    let mut tick = tokio::time::interval(UPKEEP_EVERY);
    loop {
        tick.tick().await;
        handle.run_upkeep();
    }
}

/// Installs the recorder (once per process; later calls return the same handle).
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Suffix("seconds".into()),
                    SECONDS,
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        metrics_exporter_prometheus::Matcher::Suffix("batch_size".into()),
                        SIZES,
                    )
                })
                .expect("bucket lists are not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (e.g. by an embedding program); then
            // this handle renders nothing, which is harmless.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

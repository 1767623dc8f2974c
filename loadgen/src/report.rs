//! The figures of one run, printed for people and as a final one-line JSON summary.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub samples: u64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Latency {
        let ms = |us: u64| us as f64 / 1000.0;
        Latency {
            p50: ms(h.value_at_quantile(0.5)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            samples: h.len(),
        }
    }
}

/// Percentiles of one step's durations, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct StepTimes {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl StepTimes {
    pub fn of(mut times: Vec<std::time::Duration>) -> StepTimes {
        times.sort_unstable();
        let at = |q: f64| {
            times
                .get(((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1)))
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        StepTimes {
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: times.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        }
    }
}

/// The steps of the resumes of a storm.
#[derive(Debug, Clone, Serialize)]
pub struct StormStepTimes {
    pub close: StepTimes,
    pub tcp: StepTimes,
    pub upgrade: StepTimes,
    pub welcome: StepTimes,
    pub subscribe: StepTimes,
}

/// Everything a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub workload: String,
    pub clients: usize,
    pub rooms: usize,
    pub room_size: usize,
    pub publishers: usize,
    /// Messages per second each publisher aimed at (unused when `closed_loop`).
    pub rate_per_publisher: f64,
    /// Publishers sent their next message as soon as the last was acked.
    pub closed_loop: bool,
    /// Paced publishers all sent at the same instant (one burst per period) instead of
    /// spread over the period.
    pub lockstep: bool,
    /// Seconds of publishing.
    pub window_s: f64,
    /// Seconds from the first publish until everything acked was delivered (or the drain
    /// bound passed).
    pub elapsed_s: f64,
    pub sent: u64,
    pub acked: u64,
    /// Requests the server refused (rate limit, …).
    pub refused: u64,
    /// Deliveries owed: every acked message times the members of its room.
    pub expected: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicates: u64,
    /// Connections the server closed (or that failed) before the end.
    pub dropped: usize,
    pub deliveries_per_s: f64,
    pub acked_per_s: f64,
    /// End-to-end: from the send (the time in the body) to each member's receipt.
    pub latency_ms: Latency,
    /// From a send leaving the publisher to its ack arriving (commit included).
    pub ack_latency_ms: Latency,
    /// `reconnect-storm`: seconds from the storm until every connection had resumed.
    pub storm_resume_s: Option<f64>,
    /// `reconnect-storm`: connections that reconnected and resumed.
    pub storm_resumed: Option<u64>,
    /// `reconnect-storm`: resume attempts that failed and were tried again.
    pub storm_retries: Option<u64>,
    /// `reconnect-storm`: how long each step of a resume took, over the clients.
    pub storm_steps_ms: Option<StormStepTimes>,
    /// `reconnect-storm`: connections that gave up resuming within the bound.
    pub storm_stranded: Option<u64>,
    /// Connections that received fewer events than were acked in their room.
    pub short_connections: u64,
    /// Deliveries missing on connections that stayed (or came back): lost by the server.
    pub short_deliveries_connected: u64,
    /// Deliveries missing on connections that gave up: what stranding cost.
    pub short_deliveries_stranded: u64,
    /// Sends sent again after a reconnect (their answer was lost with the connection).
    pub resent: u64,
    /// This generator's CPU over the run, in percent of one core.
    pub generator_cpu_pct: Option<f64>,
    /// The server's CPU over the run (with --server-pid), in percent of one core.
    pub server_cpu_pct: Option<f64>,
    /// The server's resident memory before connecting and once everyone was subscribed.
    pub server_rss_kib_before: Option<u64>,
    pub server_rss_kib_connected: Option<u64>,
    /// (connected − before) / clients.
    pub server_bytes_per_connection: Option<u64>,
}

impl Report {
    /// Whether the run kept the promises: nothing lost, nothing twice, nobody dropped.
    pub fn clean(&self) -> bool {
        self.lost == 0
            && self.duplicates == 0
            && self.dropped == 0
            && self.delivered == self.expected
            && self.storm_resumed.is_none_or(|n| n == self.clients as u64)
            && self.storm_stranded.is_none_or(|n| n == 0)
            && self.short_connections == 0
    }

    /// Human-readable lines, then the JSON summary line.
    pub fn print(&self) {
        let pace = if self.closed_loop {
            "closed loop".to_string()
        } else {
            let spread = if self.lockstep {
                "in lockstep"
            } else {
                "spread"
            };
            format!("at {}/s, {spread}", self.rate_per_publisher)
        };
        println!(
            "workload      {} ({} clients, {} rooms of {}, {} publishers {pace})",
            self.workload, self.clients, self.rooms, self.room_size, self.publishers,
        );
        println!(
            "deliveries    {} of {} expected ({:.0}/s), lost {}, duplicates {}, dropped connections {}",
            self.delivered,
            self.expected,
            self.deliveries_per_s,
            self.lost,
            self.duplicates,
            self.dropped
        );
        println!(
            "sends         {} sent, {} acked ({:.0}/s), {} refused",
            self.sent, self.acked, self.acked_per_s, self.refused
        );
        if let (Some(secs), Some(resumed)) = (self.storm_resume_s, self.storm_resumed) {
            println!(
                "storm         {resumed} of {} connections resumed in {secs:.2} s ({} attempts retried, {} gave up), {} sends sent again",
                self.clients,
                self.storm_retries.unwrap_or(0),
                self.storm_stranded.unwrap_or(0),
                self.resent
            );
        }
        if let Some(st) = &self.storm_steps_ms {
            for (name, t) in [
                ("close", &st.close),
                ("tcp", &st.tcp),
                ("upgrade", &st.upgrade),
                ("welcome", &st.welcome),
                ("subscribe", &st.subscribe),
            ] {
                println!(
                    "storm step    {name:<9} p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1} ms",
                    t.p50, t.p90, t.p99, t.max
                );
            }
        }
        println!(
            "short         {} connections received less than was acked: {} deliveries missing on connections that stayed or resumed, {} on connections that gave up",
            self.short_connections, self.short_deliveries_connected, self.short_deliveries_stranded
        );
        let l = &self.latency_ms;
        println!(
            "latency ms    p50 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}  ({} samples)",
            l.p50, l.p99, l.p999, l.max, l.samples
        );
        let a = &self.ack_latency_ms;
        println!(
            "send → ack ms p50 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}  ({} samples)",
            a.p50, a.p99, a.p999, a.max, a.samples
        );
        if let Some(cpu) = self.generator_cpu_pct {
            println!("generator     {cpu:.0}% of one core");
        }
        if let Some(cpu) = self.server_cpu_pct {
            println!("server        {cpu:.0}% of one core");
        }
        if let Some(b) = self.server_bytes_per_connection {
            println!(
                "server memory {} KiB → {} KiB: {} bytes per connection",
                self.server_rss_kib_before.unwrap_or(0),
                self.server_rss_kib_connected.unwrap_or(0),
                b
            );
        }
        println!(
            "{}",
            serde_json::to_string(self).expect("a report serializes")
        );
    }
}

//! `ramp`: the `fanout` workload run again and again with the publish rate raised by a
//! factor each step, until a step's p99 passes the bound, anything is lost or repeated,
//! or the steps run out. The answer is the last step that held: the highest sustained
//! rate within the bound.

use serde::Serialize;

use crate::bots::Bot;
use crate::conn::Target;
use crate::report::Report;
use crate::workload::{Spec, run};

/// How to raise the rate.
#[derive(Debug, Clone)]
pub struct Steps {
    /// Messages/s per publisher in the first step.
    pub start_rate: f64,
    /// Each step's rate is the previous one's times this (> 1).
    pub factor: f64,
    /// Most steps to run.
    pub max_steps: usize,
    /// A step holds while its p99 end-to-end latency stays at or under this.
    pub p99_bound_ms: f64,
}

/// What the ramp found.
#[derive(Debug, Clone, Serialize)]
pub struct RampReport {
    pub workload: &'static str,
    pub p99_bound_ms: f64,
    /// The last step that held (p99 within the bound, nothing lost or repeated).
    pub held: Option<Report>,
    /// The step that did not hold, if the ramp stopped at one.
    pub broke: Option<Report>,
    pub steps_run: usize,
}

impl RampReport {
    /// The highest sustained deliveries/s within the bound.
    pub fn held_deliveries_per_s(&self) -> Option<f64> {
        self.held.as_ref().map(|r| r.deliveries_per_s)
    }

    /// Human-readable lines, then the JSON summary line.
    pub fn print(&self) {
        match &self.held {
            Some(r) => println!(
                "ramp held     {:.0} deliveries/s ({} publishers at {}/s), p99 {:.2} ms ≤ {} ms",
                r.deliveries_per_s,
                r.publishers,
                r.rate_per_publisher,
                r.latency_ms.p99,
                self.p99_bound_ms
            ),
            None => println!("ramp held     nothing: the first step already broke the bound"),
        }
        if let Some(r) = &self.broke {
            println!(
                "ramp broke    at {}/s per publisher: p99 {:.2} ms, lost {}, duplicates {}",
                r.rate_per_publisher, r.latency_ms.p99, r.lost, r.duplicates
            );
        }
        println!(
            "{}",
            serde_json::to_string(self).expect("a ramp report serializes")
        );
    }
}

/// Whether a step held.
pub fn held(report: &Report, p99_bound_ms: f64) -> bool {
    report.clean() && report.latency_ms.p99 <= p99_bound_ms
}

/// Runs `base` (a `fanout` spec) at rising rates; prints each step's report as it ends.
pub async fn ramp(
    target: &Target,
    bots: &[Bot],
    base: &Spec,
    steps: &Steps,
) -> anyhow::Result<RampReport> {
    anyhow::ensure!(steps.factor > 1.0, "the ramp factor must be above 1");
    let mut out = RampReport {
        workload: "ramp",
        p99_bound_ms: steps.p99_bound_ms,
        held: None,
        broke: None,
        steps_run: 0,
    };
    let mut rate = steps.start_rate;
    for _ in 0..steps.max_steps {
        let spec = Spec {
            workload: "fanout".into(),
            rate_per_publisher: rate,
            ..base.clone()
        };
        let report = run(target, bots, &spec).await?;
        report.print();
        out.steps_run += 1;
        if held(&report, steps.p99_bound_ms) {
            out.held = Some(report);
        } else {
            out.broke = Some(report);
            break;
        }
        rate *= steps.factor;
    }
    Ok(out)
}

//! The faults of the chaos run, injected at random (seeded) until the run's time is up:
//! a node killed with SIGKILL and started again, the test's Redis killed and started
//! again, the test's Postgres stopped as a crash (`-m immediate`) and started again, and a
//! node paused (SIGSTOP) past the cluster's heartbeat deadline, then resumed (SIGCONT).
//! Each round runs every kind once, in a random order, at random moments.

use confab::gateway::presence::{HEARTBEAT, NODE_TTL};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

use crate::nodes::Cluster;
use crate::own_postgres::OwnPostgres;
use crate::redis::OwnRedis;
use crate::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    KillNode,
    RestartRedis,
    RestartPostgres,
    PauseNode,
}

const KINDS: [Kind; 4] = [
    Kind::KillNode,
    Kind::RestartRedis,
    Kind::RestartPostgres,
    Kind::PauseNode,
];

/// What was injected.
#[derive(Default)]
pub struct FaultLog {
    pub counts: BTreeMap<String, u32>,
    /// One line per fault: when (since the start), what, how long.
    pub lines: Vec<String>,
    /// When the last fault was over (the node, Redis or Postgres running again).
    pub last_end: Option<Instant>,
}

/// Injects faults until `until`; a fault started before then runs to its end.
pub async fn run(
    cluster: &mut Cluster,
    redis: &mut OwnRedis,
    pg: &mut OwnPostgres,
    rng: &mut Rng,
    until: Instant,
) -> FaultLog {
    let mut log = FaultLog::default();
    let started = Instant::now();
    'rounds: loop {
        // `CONFAB_CHAOS_FAULTS` (by hand): only the kinds it names, e.g. `KillNode,PauseNode`.
        let only = std::env::var("CONFAB_CHAOS_FAULTS").ok();
        let mut order: Vec<Kind> = KINDS
            .into_iter()
            .filter(|k| {
                only.as_ref()
                    .is_none_or(|o| o.split(',').any(|n| n == format!("{k:?}")))
            })
            .collect();
        if order.is_empty() {
            tokio::time::sleep_until(until).await;
            break;
        }
        for i in (1..order.len()).rev() {
            order.swap(i, rng.range(0, i as u64 + 1) as usize);
        }
        for kind in order {
            tokio::time::sleep(Duration::from_millis(rng.range(1500, 4000))).await;
            if Instant::now() >= until {
                break 'rounds;
            }
            let at = started.elapsed();
            let begun = Instant::now();
            let what = match kind {
                Kind::KillNode => {
                    let i = rng.range(0, cluster.nodes.len() as u64) as usize;
                    cluster.kill_and_restart(i).await;
                    format!("SIGKILL node {i}, started again")
                }
                Kind::RestartRedis => {
                    redis.down();
                    tokio::time::sleep(Duration::from_millis(rng.range(200, 2000))).await;
                    redis.up().await.expect("redis-server starts again");
                    "Redis killed, started again".to_string()
                }
                Kind::RestartPostgres => {
                    pg.stop_immediately()
                        .await
                        .expect("pg_ctl stop -m immediate");
                    tokio::time::sleep(Duration::from_millis(rng.range(1000, 4000))).await;
                    pg.start_again().await.expect("Postgres starts again");
                    "Postgres stopped -m immediate, started again".to_string()
                }
                Kind::PauseNode => {
                    let i = rng.range(0, cluster.nodes.len() as u64) as usize;
                    cluster.nodes[i].signal("STOP");
                    // Past the deadline: the other nodes take it for dead and reap it.
                    tokio::time::sleep(NODE_TTL + HEARTBEAT * 2).await;
                    cluster.nodes[i].signal("CONT");
                    format!("SIGSTOP node {i}, SIGCONT")
                }
            };
            let line = format!(
                "{:>6.1}s {what} ({:.1} s)",
                at.as_secs_f64(),
                begun.elapsed().as_secs_f64()
            );
            eprintln!("chaos: {line}");
            log.lines.push(line);
            *log.counts.entry(format!("{kind:?}")).or_default() += 1;
            log.last_end = Some(Instant::now());
        }
    }
    log
}

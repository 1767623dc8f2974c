//! `confab-load`: the command line of the load generator (see the library docs).

use clap::{Parser, Subcommand};
use confab_load::conn::Target;
use confab_load::ramp::{Steps, ramp};
use confab_load::workload::{Spec, run};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Drives a real Confab server over protocol v1 and reports deliveries/s, acked sends/s,
/// latency percentiles, loss and duplicates, its own CPU and the server's memory.
/// Accounts come from `confab user bots --prefix lg --count N > bots.tsv`.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// The server's address.
    #[arg(long, env = "CONFAB_LOAD_SERVER", default_value = "127.0.0.1:3000")]
    server: SocketAddr,
    /// Local addresses to connect from, in turn (comma-separated), to go past one
    /// address's ~28,000 ephemeral ports, e.g. `127.0.0.1,127.0.0.2,127.0.0.3`. Default:
    /// 127.0.0.1 to 127.0.0.16 when every server is on IPv4 loopback (a connection left
    /// unbound has its port chosen inside `connect`, a search that thousands of
    /// connections to one server make slow), else the system's choice.
    #[arg(long, value_delimiter = ',')]
    sources: Vec<IpAddr>,
    /// Further nodes of the same cluster (comma-separated): connection `i` goes to the
    /// `i mod n`-th of --server and these, so each room's members are spread over the
    /// nodes and every delivery but a node's own crosses the broker.
    #[arg(long, value_delimiter = ',')]
    spread_over: Vec<SocketAddr>,
    /// The bots file: `handle<TAB>token` lines (not needed by `sink` and `selftest`).
    #[arg(long, default_value = "bots.tsv")]
    bots: PathBuf,
    /// The server's pid, to report its memory (RSS) per connection.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Connections opened at once during set-up.
    #[arg(long, default_value_t = 256)]
    parallel: usize,
    /// Seconds to wait after publishing for deliveries still on their way.
    #[arg(long, default_value_t = 10)]
    drain_secs: u64,
    /// Paced publishers all send at the same instant, one burst per period, instead of
    /// each at its own offset within the period (the default, a steady offered load).
    #[arg(long)]
    lockstep: bool,
    #[command(subcommand)]
    workload: Workload,
}

#[derive(Debug, Subcommand)]
enum Workload {
    /// Clients in rooms of ROOM_SIZE; PUBLISHERS per room each send RATE messages/s.
    Fanout {
        #[arg(long, default_value_t = 2000)]
        clients: usize,
        #[arg(long, default_value_t = 100)]
        room_size: usize,
        #[arg(long, default_value_t = 1)]
        publishers: usize,
        #[arg(long, default_value_t = 10.0)]
        rate: f64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Acked durable sends/s: rooms of ROOM_SIZE, every client publishing closed-loop (its
    /// next send as soon as the last is acked); one room of N is the hot-room case.
    Sends {
        #[arg(long, default_value_t = 200)]
        clients: usize,
        #[arg(long, default_value_t = 2)]
        room_size: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// One room holding every client.
    Bigroom {
        #[arg(long, default_value_t = 5000)]
        clients: usize,
        #[arg(long, default_value_t = 1)]
        publishers: usize,
        #[arg(long, default_value_t = 10.0)]
        rate: f64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// `fanout`, and halfway through every connection drops at once, reconnects and
    /// resumes from its last seq: how long until all resumed, and what was lost.
    ReconnectStorm {
        #[arg(long, default_value_t = 10_000)]
        clients: usize,
        #[arg(long, default_value_t = 100)]
        room_size: usize,
        #[arg(long, default_value_t = 1)]
        publishers: usize,
        #[arg(long, default_value_t = 2.0)]
        rate: f64,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// `fanout` at rising rates (times FACTOR each step) until p99 passes P99_MS or
    /// anything is lost: reports the highest rate held.
    Ramp {
        #[arg(long, default_value_t = 2000)]
        clients: usize,
        #[arg(long, default_value_t = 100)]
        room_size: usize,
        #[arg(long, default_value_t = 1)]
        publishers: usize,
        #[arg(long, default_value_t = 5.0)]
        start_rate: f64,
        #[arg(long, default_value_t = 1.5)]
        factor: f64,
        #[arg(long, default_value_t = 8)]
        steps: usize,
        #[arg(long, default_value_t = 50.0)]
        p99_ms: f64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// The generator's own ceiling: read events from a `sink` (at --server) through the
    /// generator's receive path; reports frames/s and the generator's CPU.
    Selftest {
        #[arg(long, default_value_t = 50)]
        connections: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// A trivial WebSocket server that writes room events as fast as they are taken, for
    /// `selftest`; listens on --server until killed.
    Sink,
    /// Clients subscribed and quiet; with --server-pid, the server's memory per connection.
    Idle {
        #[arg(long, default_value_t = 10_000)]
        clients: usize,
        #[arg(long, default_value_t = 100)]
        room_size: usize,
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.workload {
        Workload::Sink => return confab_load::selftest::sink(cli.server).await,
        Workload::Selftest {
            connections,
            seconds,
        } => {
            let report = confab_load::selftest::selftest(cli.server, connections, seconds).await?;
            report.print();
            if report.lost + report.duplicates > 0 {
                std::process::exit(2);
            }
            return Ok(());
        }
        _ => {}
    }
    let mut steps = None;
    let (workload, clients, room_size, publishers, rate, seconds) = match cli.workload {
        Workload::Ramp {
            clients,
            room_size,
            publishers,
            start_rate,
            factor,
            steps: max_steps,
            p99_ms,
            seconds,
        } => {
            steps = Some(Steps {
                start_rate,
                factor,
                max_steps,
                p99_bound_ms: p99_ms,
            });
            (
                "fanout", clients, room_size, publishers, start_rate, seconds,
            )
        }
        Workload::Fanout {
            clients,
            room_size,
            publishers,
            rate,
            seconds,
        } => ("fanout", clients, room_size, publishers, rate, seconds),
        Workload::Bigroom {
            clients,
            publishers,
            rate,
            seconds,
        } => ("bigroom", clients, clients, publishers, rate, seconds),
        Workload::ReconnectStorm {
            clients,
            room_size,
            publishers,
            rate,
            seconds,
        } => (
            "reconnect-storm",
            clients,
            room_size,
            publishers,
            rate,
            seconds,
        ),
        Workload::Idle {
            clients,
            room_size,
            seconds,
        } => ("idle", clients, room_size, 0, 0.0, seconds),
        Workload::Sends {
            clients,
            room_size,
            seconds,
        } => ("sends", clients, room_size, room_size, 0.0, seconds),
        Workload::Sink | Workload::Selftest { .. } => unreachable!("handled above"),
    };
    let limit = confab_load::sys::raise_fd_limit(clients as u64 + 1024);
    if limit < clients as u64 + 64 {
        eprintln!("warning: the open-file limit is {limit}, too low for {clients} connections");
    }
    let bots = confab_load::bots::read(&cli.bots)?;
    let target = Target::new(cli.server, cli.sources, cli.spread_over);
    let spec = Spec {
        workload: workload.to_string(),
        clients,
        room_size,
        publishers_per_room: publishers,
        rate_per_publisher: rate,
        closed_loop: workload == "sends",
        window: Duration::from_secs(seconds),
        drain: Duration::from_secs(cli.drain_secs),
        parallel: cli.parallel,
        lockstep: cli.lockstep,
        server_pid: cli.server_pid,
    };
    if let Some(steps) = steps {
        let report = ramp(&target, &bots, &spec, &steps).await?;
        report.print();
        if report.held.is_none() {
            std::process::exit(2);
        }
        return Ok(());
    }
    let report = run(&target, &bots, &spec).await?;
    report.print();
    if !report.clean() {
        eprintln!("NOT CLEAN: messages were lost or repeated, or connections dropped");
        std::process::exit(2);
    }
    Ok(())
}

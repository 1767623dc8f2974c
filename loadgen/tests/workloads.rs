//! The load generator against the real server (started in-process on a random port with
//! a fresh SQLite store), at a small scale: every workload must account for every message.

use confab::config::Settings;
use confab::startup::Application;
use confab_load::bots::Bot;
use confab_load::conn::Target;
use confab_load::workload::{Spec, run};
use std::time::Duration;

struct Server {
    target: Target,
    bots: Vec<Bot>,
    stop: tokio::sync::oneshot::Sender<()>,
    _data: tempfile::TempDir,
}

/// A server with `bots` accounts that have API tokens.
async fn server(bots: usize) -> Server {
    let data = tempfile::tempdir().unwrap();
    let mut settings = Settings::defaults();
    settings.bind = Some("127.0.0.1:0".parse().unwrap());
    settings.data_dir = data.path().to_path_buf();
    // `sends` publishes as fast as acks come back: far past a person's rate limit.
    settings.rate_per_sec = 100_000;
    settings.rate_burst = 100_000;
    let app = Application::build(settings).await.expect("server builds");
    let addr = app.addr();
    let store = app.store();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let mut list = Vec::new();
    for i in 0..bots {
        let handle = protocol::names::Handle::parse(&format!("lg{i}")).unwrap();
        let name = protocol::names::DisplayName::parse(&format!("lg{i}")).unwrap();
        let user = store.create_user(&handle, &name, "!bot").await.unwrap();
        let token = app::ssr::tokens::generate();
        let hash = app::ssr::tokens::lookup_hash(&token).unwrap();
        store.create_api_token(user.id, "bot", &hash).await.unwrap();
        list.push(Bot {
            handle: handle.as_str().to_string(),
            token,
        });
    }
    Server {
        target: Target {
            server: addr,
            sources: vec!["127.0.0.1".parse().unwrap()],
            spread: Vec::new(),
        },
        bots: list,
        stop,
        _data: data,
    }
}

fn spec(workload: &str, clients: usize, room_size: usize, publishers: usize, rate: f64) -> Spec {
    Spec {
        workload: workload.into(),
        clients,
        room_size,
        publishers_per_room: publishers,
        rate_per_publisher: rate,
        closed_loop: false,
        window: Duration::from_secs(2),
        drain: Duration::from_secs(10),
        parallel: 16,
        lockstep: false,
        server_pid: Some(std::process::id()),
    }
}

#[tokio::test]
async fn fanout_delivers_every_acked_message_to_every_member_once() {
    let s = server(24).await;
    let report = run(&s.target, &s.bots, &spec("fanout", 24, 6, 2, 10.0))
        .await
        .unwrap();
    assert_eq!(report.rooms, 4);
    assert_eq!(report.publishers, 8);
    // About 8 publishers × 10/s × 2 s; a few may still be unacked at the window's end.
    assert!(report.acked >= 100, "{report:?}");
    assert_eq!(report.refused, 0, "{report:?}");
    assert_eq!(report.expected, report.acked * 6, "{report:?}");
    assert!(report.clean(), "{report:?}");
    assert_eq!(report.latency_ms.samples, report.delivered);
    assert_eq!(report.ack_latency_ms.samples, report.acked);
    assert!(report.latency_ms.p50 > 0.0 && report.latency_ms.p50 <= report.latency_ms.max);
    assert!(report.generator_cpu_pct.is_some());
    // Every send made while the run was on is waited for: none is left unanswered.
    assert_eq!(report.sent, report.acked, "{report:?}");
    assert!(!report.lockstep);

    // The same with every publisher sending in the same instant.
    let mut lockstep = spec("fanout", 24, 6, 2, 10.0);
    lockstep.lockstep = true;
    let report = run(&s.target, &s.bots, &lockstep).await.unwrap();
    assert!(report.lockstep);
    assert!(report.acked >= 100, "{report:?}");
    assert_eq!(report.sent, report.acked, "{report:?}");
    assert_eq!(report.expected, report.acked * 6, "{report:?}");
    assert!(report.clean(), "{report:?}");
    let _ = s.stop.send(());
}

#[tokio::test]
async fn closed_loop_sends_are_timed_until_their_ack_and_delivered_to_every_member() {
    let s = server(12).await;
    let mut sends = spec("sends", 12, 3, 3, 0.0);
    sends.closed_loop = true;
    let report = run(&s.target, &s.bots, &sends).await.unwrap();
    assert_eq!((report.rooms, report.publishers), (4, 12), "{report:?}");
    assert!(report.closed_loop);
    // One send in flight per client, each sent when the last was acked: far more than a
    // paced publisher's handful in 2 s.
    assert!(report.acked >= 12 * 20, "{report:?}");
    assert_eq!(report.refused, 0, "{report:?}");
    assert_eq!(report.ack_latency_ms.samples, report.acked, "{report:?}");
    assert!(
        report.ack_latency_ms.p50 > 0.0 && report.ack_latency_ms.p99 <= report.ack_latency_ms.max
    );
    assert_eq!(report.expected, report.acked * 3, "{report:?}");
    assert!(report.clean(), "{report:?}");
    let _ = s.stop.send(());
}

#[tokio::test]
async fn one_big_room_and_an_idle_crowd_are_accounted_for() {
    let s = server(40).await;
    let big = run(&s.target, &s.bots, &spec("bigroom", 40, 40, 1, 20.0))
        .await
        .unwrap();
    assert_eq!(big.rooms, 1);
    assert!(big.clean(), "{big:?}");
    assert_eq!(big.expected, big.acked * 40);

    let idle = run(&s.target, &s.bots, &spec("idle", 40, 10, 0, 0.0))
        .await
        .unwrap();
    assert_eq!((idle.sent, idle.expected, idle.delivered), (0, 0, 0));
    assert!(idle.clean(), "{idle:?}");
    assert!(idle.server_rss_kib_connected.is_some());
    assert!(idle.server_bytes_per_connection.is_some());
    let _ = s.stop.send(());
}

#[tokio::test]
async fn a_reconnect_storm_resumes_every_connection_and_loses_nothing() {
    let s = server(30).await;
    let mut storm = spec("reconnect-storm", 30, 10, 1, 20.0);
    storm.window = Duration::from_secs(3);
    let report = run(&s.target, &s.bots, &storm).await.unwrap();
    assert_eq!(report.storm_resumed, Some(30), "{report:?}");
    let took = report.storm_resume_s.expect("the storm was timed");
    assert!(took > 0.0 && took < 60.0, "{report:?}");
    // Publishing went on after the storm, and every acked message reached every member
    // exactly once, across the reconnect.
    assert!(report.acked >= 20, "{report:?}");
    assert_eq!(report.expected, report.acked * 10, "{report:?}");
    assert!(report.clean(), "{report:?}");
    let _ = s.stop.send(());
}

#[tokio::test]
async fn a_ramp_raises_the_rate_until_a_step_breaks_the_bound() {
    let s = server(12).await;
    let base = spec("fanout", 12, 6, 1, 0.0);
    // A generous bound: both steps hold, and the second ran at twice the first's rate.
    let steps = confab_load::ramp::Steps {
        start_rate: 5.0,
        factor: 2.0,
        max_steps: 2,
        p99_bound_ms: 5_000.0,
    };
    let report = confab_load::ramp::ramp(&s.target, &s.bots, &base, &steps)
        .await
        .unwrap();
    assert_eq!(report.steps_run, 2);
    assert!(report.broke.is_none(), "{report:?}");
    let held = report.held.as_ref().expect("a step held");
    assert_eq!(held.rate_per_publisher, 10.0);
    assert!(held.clean(), "{held:?}");
    // An impossible bound: the first step breaks it, nothing is held, and the ramp stops.
    let strict = confab_load::ramp::Steps {
        p99_bound_ms: 0.0,
        ..steps
    };
    let report = confab_load::ramp::ramp(&s.target, &s.bots, &base, &strict)
        .await
        .unwrap();
    assert_eq!(
        (report.steps_run, report.held.is_none()),
        (1, true),
        "{report:?}"
    );
    assert!(report.broke.is_some());
    let _ = s.stop.send(());
}

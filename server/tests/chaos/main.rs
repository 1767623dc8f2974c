//! The chaos run (issue 25): three `confab` nodes (processes of their own) on a Postgres
//! and a Redis of the test's own, with clients chatting, re-sending and resuming, while
//! faults are injected at random for `CONFAB_CHAOS_SECS` (60 by default; seed printed,
//! `CONFAB_CHAOS_SEED` to run one again). A binary of its own, so that it runs apart.
//!
//! The pieces: `nodes` (the cluster of children), `redis` (the test's Redis), `client` (a
//! chatting client), `leaver` (a user who leaves for good during the chaos), `faults` (the injector), `checks` (presence and leaks), `run` (this
//! test's flow and its end checks); shared with `faults/`: `own_postgres`, `peer`,
//! `room_log`, `seed`.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "../faults/own_postgres.rs"]
mod own_postgres;
#[allow(dead_code)]
#[path = "../faults/peer.rs"]
mod peer;
#[allow(dead_code)]
#[path = "../faults/room_log.rs"]
mod room_log;
#[allow(dead_code)]
#[path = "../faults/seed.rs"]
mod seed;
#[allow(dead_code)]
#[path = "../api/wsclient.rs"]
mod wsclient;

mod checks;
mod client;
mod faults;
mod leaver;
mod nodes;
mod redis;
mod rng;
mod run;

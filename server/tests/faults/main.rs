//! Fault tests: a server SIGKILLed in the middle of a burst and restarted on its data, a
//! Postgres crash and restart under a stream of sends, a long run of reconnecting
//! clients checked for leaks, a full disk under a running server (SQLite's data folder, and
//! a Postgres tablespace), an I/O error injected into SQLite's writes, a backup taken
//! under sends and restored, and the allocator the process runs on. A binary of its own, so that these slower tests run apart
//! from the others.
//!
//! The shared pieces: `child` (the `confab` binary as a process), `own_postgres` (a
//! PostgreSQL server of the test's own), `seed` (users and a room in a child's store),
//! `peer` (a client that survives its server), `storage_fault` (the steps of the
//! storage-fault tests), `sender` and `watcher` (what clients were
//! told and what they saw) and `room_log` (the checks against the store).

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "../api/wsclient.rs"]
mod wsclient;

mod child;
mod own_postgres;
mod peer;
mod room_log;
mod seed;
mod sender;
mod storage_fault;
mod watcher;

mod allocator;
mod backup;
mod churn;
mod full_disk;
mod io_error;
mod kill9;
mod postgres_full;
mod postgres_restart;
mod read_only_fs;
mod soak;

//! Confab's load generator: opens many authenticated protocol-v1 connections to a real
//! server, drives a workload, and reports what someone choosing a chat server needs:
//! deliveries/s, acked sends/s, end-to-end latency percentiles (HDR histogram), loss and
//! duplicates (both must be zero), the generator's own CPU (a saturated generator is
//! visible) and, given the server's pid, its memory. Every run is bounded in time.
//!
//! # Layout
//! - [`bots`]: the accounts to connect as (`confab user bots` prints them).
//! - [`conn`]: one connection: source-address rotation, auth, request/ack during set-up.
//! - [`session`]: the task that owns a connection during a run (read, publish, ping).
//! - [`workload`]: the workloads (`fanout`, `bigroom`, `idle`, `sends`, `reconnect-storm`).
//! - [`ramp`]: `fanout` at rising rates until p99 passes a bound or anything is lost.
//! - [`report`]: the figures and their one-line JSON summary.
//! - [`selftest`]: the generator's own receive ceiling, against a trivial sink.
//! - [`sys`]: process facts from `/proc` and the file-descriptor limit.

pub mod bots;
pub mod conn;
pub mod ramp;
pub mod report;
pub mod selftest;
pub mod session;
pub mod sys;
pub mod workload;

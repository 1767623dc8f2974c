//! Integration tests: each starts the real server on a random port and talks to it over
//! real HTTP and WebSocket connections. One binary, one module per area.

mod abuse;
mod accounts;
mod broker_contract;
mod chat_pages;
mod cluster;
mod frame_sequences;
mod gateway;
mod helpers;
mod pages;
mod realtime;
mod sse;
mod wsclient;

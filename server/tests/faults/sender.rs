//! A sender that keeps a window of sends outstanding, connection after connection, and a
//! ledger of what the server answered each client_msg_id: acked (with its seq), refused
//! as `unavailable`, or in doubt (the connection ended before any answer). After the fault
//! it settles the ledger by re-sending, with the same ids, everything not acked.

use protocol::ids::{RoomId, Seq};
use protocol::{AckInfo, ErrorCode, ReqId, ServerFrame};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::helpers::{TestUser, WAIT};
use crate::peer::{Incoming, Peer};
use crate::room_log::body_for;
use crate::wsclient::{send, subscribe};

/// The longest a sender waits for any frame while sends are outstanding. Generous: in a
/// store outage a send may wait for the pool's acquire timeout, more than once.
const SILENCE: Duration = Duration::from_secs(30);

/// What all senders of a test share: running totals and the signal to stop sending.
#[derive(Default)]
pub struct Tally {
    pub acks: AtomicU64,
    pub refusals: AtomicU64,
    pub stop: AtomicBool,
}

/// How a burst on one connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum BurstEnd {
    /// Told to stop; every send it made was answered.
    Stopped,
    /// The connection ended; its unanswered sends are in doubt.
    Lost,
}

pub struct BurstSender {
    token: String,
    room: RoomId,
    /// Prefix of this sender's client_msg_ids: `<tag>-<n>`.
    tag: String,
    /// The next n to send; every n below it was sent (or attempted).
    next: u64,
    /// n → the seq its (first) ack named.
    acked: BTreeMap<u64, Seq>,
    /// Sent, and the connection ended before an answer came.
    pub in_doubt: BTreeSet<u64>,
    /// Answered `unavailable`, and when.
    pub refused: BTreeMap<u64, Instant>,
    /// Re-sends (of in-doubt or refused ids) acked as duplicates: stored before, unacked.
    pub resent_duplicates: u64,
    /// Of those, when the ids that had been answered `unavailable` ("nothing was
    /// written") were refused.
    pub refused_but_stored: Vec<Instant>,
    /// Re-sends (of in-doubt or refused ids) that stored the message now.
    pub resent_new: u64,
    /// Re-sends of already acked ids, all acked as duplicates with the original seq.
    pub resent_acked: u64,
    /// `unavailable` answers while settling (the store still recovering).
    pub settle_refusals: u64,
    /// The longest a connection with sends outstanding went without any answer (a
    /// connection's requests are answered one at a time, so this is the longest one took).
    pub longest_silence: Duration,
}

impl BurstSender {
    pub fn new(user: &TestUser, room: RoomId, tag: &str) -> BurstSender {
        BurstSender {
            token: user.token.clone(),
            room,
            tag: tag.to_string(),
            next: 0,
            acked: BTreeMap::new(),
            in_doubt: BTreeSet::new(),
            refused: BTreeMap::new(),
            resent_duplicates: 0,
            refused_but_stored: Vec::new(),
            resent_new: 0,
            resent_acked: 0,
            settle_refusals: 0,
            longest_silence: Duration::ZERO,
        }
    }

    fn id(&self, n: u64) -> String {
        format!("{}-{n}", self.tag)
    }

    /// Every acked client_msg_id with the seq its ack named.
    pub fn acked(&self) -> HashMap<String, Seq> {
        self.acked.iter().map(|(&n, &s)| (self.id(n), s)).collect()
    }

    /// How many ids were sent (or attempted).
    pub fn sent(&self) -> u64 {
        self.next
    }

    /// Records an ack for `n`; a later ack must name the seq of the first. Returns
    /// whether the server called it a duplicate.
    fn record_ack(&mut self, n: u64, info: &AckInfo) -> bool {
        let seq = info.seq.expect("a send's ack carries its seq");
        if let Some(&first) = self.acked.get(&n) {
            assert_eq!(seq, first, "{} acked again with another seq", self.id(n));
        } else {
            self.acked.insert(n, seq);
        }
        info.duplicate
    }

    /// Connects and subscribes (sending needs a subscription), retrying until `within`.
    pub async fn join(&self, addr: SocketAddr, within: Duration) -> Peer {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let why = match Peer::connect_retrying(addr, &self.token, left).await {
                Ok(mut peer) => match peer.call(subscribe(self.room, None), WAIT * 3).await {
                    Ok(ServerFrame::Ack { .. }) => return peer,
                    other => format!("subscribe failed: {other:?}"),
                },
                Err(why) => why,
            };
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} could not join within {within:?}: {why}",
                self.tag
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends new messages on `peer`, keeping up to `window` unanswered, until `tally.stop`
    /// is set (then waits for the answers) or the connection ends.
    pub async fn burst(&mut self, peer: &mut Peer, window: usize, tally: &Tally) -> BurstEnd {
        let mut outstanding: HashMap<ReqId, u64> = HashMap::new();
        let mut last_answer = Instant::now();
        let end = 'connection: loop {
            if !tally.stop.load(Ordering::SeqCst) {
                while outstanding.len() < window {
                    let n = self.next;
                    self.next += 1;
                    let id = self.id(n);
                    match peer.request(send(self.room, &id, &body_for(&id))).await {
                        Ok(req) => {
                            outstanding.insert(req, n);
                        }
                        Err(_) => {
                            self.in_doubt.insert(n);
                            break 'connection BurstEnd::Lost;
                        }
                    }
                }
            } else if outstanding.is_empty() {
                break BurstEnd::Stopped;
            }
            match peer.next(SILENCE).await {
                Incoming::Frame(ServerFrame::Ack { req, info }) => {
                    if let Some(n) = outstanding.remove(&req) {
                        self.answered(&mut last_answer);
                        self.record_ack(n, &info);
                        tally.acks.fetch_add(1, Ordering::SeqCst);
                    }
                }
                Incoming::Frame(ServerFrame::Error {
                    req: Some(req),
                    code,
                    message,
                }) if outstanding.contains_key(&req) => {
                    let n = outstanding.remove(&req).unwrap();
                    self.answered(&mut last_answer);
                    assert_eq!(
                        code,
                        ErrorCode::Unavailable,
                        "send {} refused: {message}",
                        self.id(n)
                    );
                    self.refused.insert(n, Instant::now());
                    tally.refusals.fetch_add(1, Ordering::SeqCst);
                }
                Incoming::Frame(ServerFrame::Error { code, message, .. }) => {
                    panic!("{}: unexpected error {code}: {message}", self.tag)
                }
                Incoming::Frame(_) => {}
                Incoming::Ended => break BurstEnd::Lost,
                Incoming::Silent => panic!(
                    "{}: no answer to {} outstanding sends within {SILENCE:?}",
                    self.tag,
                    outstanding.len()
                ),
            }
        };
        self.in_doubt.extend(outstanding.into_values());
        end
    }

    /// Notes an answer: the silence since the one before.
    fn answered(&mut self, last_answer: &mut Instant) {
        self.longest_silence = self.longest_silence.max(last_answer.elapsed());
        *last_answer = Instant::now();
    }

    /// Bursts, rejoining whenever the connection ends, until `tally.stop` is set.
    pub async fn burst_through_faults(
        &mut self,
        addr: SocketAddr,
        window: usize,
        tally: &Tally,
        within: Duration,
    ) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let mut peer = self.join(addr, left).await;
            if self.burst(&mut peer, window, tally).await == BurstEnd::Stopped {
                peer.close_cleanly().await;
                return;
            }
        }
    }

    /// Re-sends, with the same ids and bodies, every id not acked (in doubt or refused) —
    /// and with `resend_acked` every acked one too, which must come back as a duplicate
    /// with its original seq — until each is acked.
    pub async fn settle(&mut self, addr: SocketAddr, resend_acked: bool, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        let todo: Vec<u64> = (0..self.next)
            .filter(|n| resend_acked || !self.acked.contains_key(n))
            .collect();
        let mut peer = self.join(addr, within).await;
        for n in todo {
            let id = self.id(n);
            let was_acked = self.acked.contains_key(&n);
            loop {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                match peer
                    .call(send(self.room, &id, &body_for(&id)), WAIT * 3)
                    .await
                {
                    Ok(ServerFrame::Ack { info, .. }) => {
                        let duplicate = self.record_ack(n, &info);
                        if was_acked {
                            assert!(duplicate, "re-sending acked {id} stored it again");
                            self.resent_acked += 1;
                        } else if duplicate {
                            self.resent_duplicates += 1;
                            if let Some(&when) = self.refused.get(&n) {
                                self.refused_but_stored.push(when);
                            }
                        } else {
                            self.resent_new += 1;
                        }
                        break;
                    }
                    Ok(ServerFrame::Error {
                        code: ErrorCode::Unavailable,
                        ..
                    }) => {
                        self.settle_refusals += 1;
                        assert!(!left.is_zero(), "{id} still refused after {within:?}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Ok(other) => panic!("re-sending {id}: {other:?}"),
                    Err(_) => peer = self.join(addr, left).await,
                }
            }
        }
        peer.close_cleanly().await;
    }
}

/// What every sender was acked: client id → seq.
pub fn all_acked(senders: &[BurstSender]) -> HashMap<String, Seq> {
    senders.iter().flat_map(BurstSender::acked).collect()
}

/// [`BurstSender::settle`] for every sender at once, each on a task of its own.
pub async fn settle_all(
    senders: Vec<BurstSender>,
    addr: SocketAddr,
    resend_acked: bool,
) -> Vec<BurstSender> {
    let tasks: Vec<_> = senders
        .into_iter()
        .map(|mut sender| {
            tokio::spawn(async move {
                sender.settle(addr, resend_acked, WAIT * 3).await;
                sender
            })
        })
        .collect();
    let mut settled = Vec::with_capacity(tasks.len());
    for task in tasks {
        settled.push(task.await.expect("settle task"));
    }
    settled
}

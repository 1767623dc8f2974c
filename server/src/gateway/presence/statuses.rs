//! Users' statuses across all of their connections: the one they chose (`set_status`), or
//! automatic — `active`, turning `away` after a while without activity and back to
//! `active` at the next request. Ephemeral like presence: kept while the user has a
//! connection to this process, never stored. An epoch counts the changes anyone can see,
//! for the cached rosters ([`super::roster_cache`]).

use protocol::Status;
use protocol::ids::UserId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Entry {
    /// Set by the user; `None` means automatic.
    chosen: Option<(Status, Option<String>)>,
    idle: bool,
    last_active: Instant,
    connections: u32,
}

impl Entry {
    fn current(&self) -> (Status, Option<String>) {
        match &self.chosen {
            Some(c) => c.clone(),
            None if self.idle => (Status::Away, None),
            None => (Status::Active, None),
        }
    }
}

/// Statuses of the users connected to this process.
#[derive(Default)]
pub struct Statuses {
    users: Mutex<HashMap<UserId, Entry>>,
    /// Bumped, under the lock and after the change, whenever a status anyone sees changes.
    epoch: AtomicU64,
}

impl Statuses {
    /// A connection of `user` opened.
    pub fn connect(&self, user: UserId, now: Instant) {
        let mut users = self.users.lock().expect("status lock");
        let e = users.entry(user).or_insert(Entry {
            chosen: None,
            idle: false,
            last_active: now,
            connections: 0,
        });
        e.connections += 1;
    }

    /// A connection of `user` closed; the entry goes with the last one.
    pub fn disconnect(&self, user: UserId) {
        let mut users = self.users.lock().expect("status lock");
        if let Some(e) = users.get_mut(&user) {
            e.connections = e.connections.saturating_sub(1);
            if e.connections == 0 {
                let gone = users.remove(&user).expect("the entry is there");
                // A user not connected here shows as `active`.
                if gone.current() != Default::default() {
                    self.changed();
                }
            }
        }
    }

    /// Counts the changes anyone can see: it differs from an earlier reading whenever a
    /// status may have changed since. Read it before the statuses it stands for.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    fn changed(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// The user's status now (`active` for a user not connected here).
    pub fn current(&self, user: UserId) -> (Status, Option<String>) {
        let users = self.users.lock().expect("status lock");
        users.get(&user).map(Entry::current).unwrap_or_default()
    }

    /// The user chose a status; `active` with no text returns to automatic. True when
    /// what others see changed.
    pub fn set(&self, user: UserId, status: Status, text: Option<String>, now: Instant) -> bool {
        let mut users = self.users.lock().expect("status lock");
        let Some(e) = users.get_mut(&user) else {
            return false;
        };
        let before = e.current();
        e.chosen = match (status, &text) {
            (Status::Active, None) => None,
            _ => Some((status, text)),
        };
        e.idle = false;
        e.last_active = now;
        let changed = e.current() != before;
        if changed {
            self.changed();
        }
        changed
    }

    /// The user did something. True when that ended an automatic away.
    pub fn activity(&self, user: UserId, now: Instant) -> bool {
        let mut users = self.users.lock().expect("status lock");
        let Some(e) = users.get_mut(&user) else {
            return false;
        };
        e.last_active = now;
        let woke = e.idle && e.chosen.is_none();
        e.idle = false;
        if woke {
            self.changed();
        }
        woke
    }

    /// Users on automatic status idle for `idle_after` turn away; returns them.
    pub fn sweep(&self, now: Instant, idle_after: Duration) -> Vec<UserId> {
        let mut users = self.users.lock().expect("status lock");
        let mut turned = Vec::new();
        for (id, e) in users.iter_mut() {
            if !e.idle && e.chosen.is_none() && now.duration_since(e.last_active) >= idle_after {
                e.idle = true;
                turned.push(*id);
            }
        }
        if !turned.is_empty() {
            self.changed();
        }
        turned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn idle_users_turn_away_and_come_back_on_activity() {
        let s = Statuses::default();
        let ana = UserId(Uuid::from_u128(1));
        let t0 = Instant::now();
        s.connect(ana, t0);
        assert_eq!(s.current(ana), (Status::Active, None));
        assert!(
            s.sweep(t0 + Duration::from_secs(10), Duration::from_secs(60))
                .is_empty()
        );
        assert_eq!(
            s.sweep(t0 + Duration::from_secs(61), Duration::from_secs(60)),
            vec![ana]
        );
        assert_eq!(s.current(ana).0, Status::Away);
        assert!(s.activity(ana, t0 + Duration::from_secs(62)));
        assert_eq!(s.current(ana).0, Status::Active);
    }

    #[test]
    fn a_chosen_status_is_kept_until_changed() {
        let s = Statuses::default();
        let ana = UserId(Uuid::from_u128(1));
        let t0 = Instant::now();
        s.connect(ana, t0);
        assert!(s.set(ana, Status::Dnd, Some("focus".into()), t0));
        assert!(
            s.sweep(t0 + Duration::from_secs(600), Duration::from_secs(60))
                .is_empty()
        );
        assert!(!s.activity(ana, t0 + Duration::from_secs(601)));
        assert_eq!(s.current(ana), (Status::Dnd, Some("focus".into())));
        assert!(s.set(ana, Status::Active, None, t0), "back to automatic");
        s.connect(ana, t0);
        s.disconnect(ana);
        assert_eq!(
            s.current(ana).0,
            Status::Active,
            "one connection left keeps the entry"
        );
    }

    #[test]
    fn the_epoch_moves_with_every_status_others_see_and_only_then() {
        let s = Statuses::default();
        let ana = UserId(Uuid::from_u128(1));
        let t0 = Instant::now();
        let start = s.epoch();
        s.connect(ana, t0);
        s.connect(ana, t0);
        assert!(!s.activity(ana, t0));
        assert!(!s.set(ana, Status::Active, None, t0));
        s.disconnect(ana);
        assert_eq!(s.epoch(), start, "nothing anyone sees changed");

        let mut last = s.epoch();
        let mut moved = |s: &Statuses, why: &str| {
            assert!(s.epoch() > last, "{why}");
            last = s.epoch();
        };
        s.sweep(t0 + Duration::from_secs(61), Duration::from_secs(60));
        moved(&s, "idle turned away");
        s.activity(ana, t0 + Duration::from_secs(62));
        moved(&s, "activity ended the away");
        s.set(ana, Status::Dnd, None, t0);
        moved(&s, "a chosen status");
        s.disconnect(ana);
        moved(&s, "gone from here shows as active");
    }
}

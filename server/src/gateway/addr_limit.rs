//! The per-address connection cap: one peer address may hold at most
//! `--max-conns-per-addr` gateway connections (WebSockets and event streams together).
//! A connection holds an [`AddrSlot`] for its whole life; dropping it frees the place.
//!
//! The address is the TCP peer's. Behind a reverse proxy every client shares the proxy's
//! address, so the cap must be raised there (the proxy should enforce its own).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Open connections per peer address.
#[derive(Default)]
pub struct AddrLimit {
    open: Mutex<HashMap<IpAddr, u32>>,
}

/// One connection's place in its address's count.
pub struct AddrSlot {
    limit: Arc<AddrLimit>,
    addr: IpAddr,
}

impl AddrLimit {
    /// Takes a place for `addr`, unless it already holds `max` connections.
    pub fn acquire(self: &Arc<Self>, addr: IpAddr, max: u32) -> Option<AddrSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(addr).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(AddrSlot {
            limit: self.clone(),
            addr,
        })
    }

    /// Connections `addr` holds now.
    #[cfg(test)]
    fn open(&self, addr: IpAddr) -> u32 {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(&addr).copied().unwrap_or(0)
    }
}

impl Drop for AddrSlot {
    fn drop(&mut self) {
        let mut open = self.limit.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.addr) {
            *count -= 1;
            if *count == 0 {
                // Forget addresses without connections, so the map stays as small as the
                // set of addresses connected now.
                open.remove(&self.addr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_at_most_max_places_and_gets_them_back() {
        let limit = Arc::new(AddrLimit::default());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = limit.acquire(a, 2).unwrap();
        let _second = limit.acquire(a, 2).unwrap();
        assert!(limit.acquire(a, 2).is_none(), "a third place");
        assert!(
            limit.acquire(b, 2).is_some(),
            "another address is not affected"
        );
        drop(first);
        assert_eq!(limit.open(a), 1);
        assert!(limit.acquire(a, 2).is_some());
    }

    #[test]
    fn addresses_without_connections_are_forgotten() {
        let limit = Arc::new(AddrLimit::default());
        let a: IpAddr = "::1".parse().unwrap();
        drop(limit.acquire(a, 1).unwrap());
        assert!(limit.open.lock().unwrap().is_empty());
    }
}

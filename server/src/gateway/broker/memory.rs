//! `MemoryBroker`: the in-process broker of a single node (the embedded default). It
//! calls the node's handler synchronously inside `publish`, so delivery is immediate,
//! in publish order, and never lost while the process lives.

use protocol::ids::RoomId;
use std::sync::RwLock;

use super::{Broker, BrokerError, Delivery, Envelope, Handler, now_ms};

/// The broker of a one-process deployment.
#[derive(Default)]
pub struct MemoryBroker {
    handler: RwLock<Option<Handler>>,
}

impl Broker for MemoryBroker {
    fn engine(&self) -> &'static str {
        "memory"
    }

    fn set_handler(&self, handler: Handler) {
        *self.handler.write().expect("broker lock") = Some(handler);
    }

    fn publish(&self, envelope: Envelope) {
        // Clone the handler out so that it runs without the lock held (it may publish).
        let handler = self.handler.read().expect("broker lock").clone();
        if let Some(handler) = handler {
            handler(Delivery {
                envelope,
                published_at_ms: now_ms(),
            });
        }
    }

    fn sees_every_room(&self) -> bool {
        true
    }

    /// Every envelope is already local: nothing to subscribe to.
    fn subscribe_room(&self, _room: RoomId) {}

    fn unsubscribe_room(&self, _room: RoomId) {}

    fn ping(&self) -> futures_util::future::BoxFuture<'_, Result<(), BrokerError>> {
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ids::UserId;
    use std::sync::{Arc, Mutex};
    use uuid::Uuid;

    #[test]
    fn publish_reaches_the_handler_at_once_and_in_order() {
        let broker = MemoryBroker::default();
        // Before a handler is set, envelopes go nowhere (and nothing panics).
        broker.publish(Envelope::User {
            user: UserId(Uuid::from_u128(1)),
            frame: "{}".into(),
        });
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        broker.set_handler(Arc::new(move |d: Delivery| {
            sink.lock().unwrap().push(d.envelope);
        }));
        let room = RoomId(Uuid::from_u128(7));
        for seq in 1..=3 {
            broker.publish(Envelope::Event {
                room,
                seq,
                frame: format!("{{\"seq\":{seq}}}").into(),
                amends: false,
            });
        }
        let seqs: Vec<u64> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|e| match e {
                Envelope::Event { seq, .. } => *seq,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(seqs, [1, 2, 3]);
    }

    #[tokio::test]
    async fn a_memory_broker_is_always_ready() {
        assert!(MemoryBroker::default().ping().await.is_ok());
    }
}

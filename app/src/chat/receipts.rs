//! Read receipts: where "seen by" goes in a room's message list. Each other member's
//! receipt (their read marker, from the gateway's `receipts` frames) sits under the last
//! message at or before it; a marker older than the first message held shows nowhere.
//! Pure logic; the message list renders it.

use protocol::ReadReceipt;
use protocol::ids::{Seq, UserId};
use std::collections::HashMap;

/// Most names "seen by" spells out before "and N others".
pub const NAMES_SHOWN: usize = 3;

/// Keeps the higher marker: receipts only move forward, and a late frame changes nothing.
pub fn merge(held: &mut HashMap<UserId, ReadReceipt>, receipt: ReadReceipt) {
    match held.get_mut(&receipt.user.id) {
        Some(old) if old.seq >= receipt.seq => {}
        Some(old) => *old = receipt,
        None => {
            held.insert(receipt.user.id, receipt);
        }
    }
}

/// For each message seq (of `seqs`, ascending), the names of those whose receipt sits
/// under it, never `me`'s, in handle order.
pub fn seen_by<'a>(
    seqs: &[Seq],
    receipts: impl IntoIterator<Item = &'a ReadReceipt>,
    me: Option<UserId>,
) -> HashMap<Seq, Vec<String>> {
    let mut placed: HashMap<Seq, Vec<&ReadReceipt>> = HashMap::new();
    for r in receipts {
        if Some(r.user.id) == me {
            continue;
        }
        // The last message at or before the marker.
        let at = seqs.partition_point(|&s| s <= r.seq);
        if at > 0 {
            placed.entry(seqs[at - 1]).or_default().push(r);
        }
    }
    placed
        .into_iter()
        .map(|(seq, mut rs)| {
            rs.sort_by(|a, b| a.user.handle.cmp(&b.user.handle));
            (seq, rs.into_iter().map(|r| r.user.name.clone()).collect())
        })
        .collect()
}

/// The line under a message: "Seen" in a DM (there is only one other person), "Seen by
/// Ana, Bo and Cy" or "Seen by Ana, Bo, Cy and 2 others" elsewhere.
pub fn seen_text(names: &[String], dm: bool) -> String {
    if dm {
        return "Seen".to_string();
    }
    match names {
        [] => String::new(),
        [one] => format!("Seen by {one}"),
        _ if names.len() <= NAMES_SHOWN => {
            let (last, rest) = names.split_last().expect("two or more");
            format!("Seen by {} and {last}", rest.join(", "))
        }
        _ => {
            let others = names.len() - NAMES_SHOWN;
            let s = if others == 1 { "" } else { "s" };
            format!(
                "Seen by {} and {others} other{s}",
                names[..NAMES_SHOWN].join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::UserView;
    use uuid::Uuid;

    fn receipt(n: u128, name: &str, seq: Seq) -> ReadReceipt {
        ReadReceipt {
            user: UserView {
                id: UserId(Uuid::from_u128(n)),
                handle: name.to_lowercase(),
                name: name.into(),
                avatar: None,
            },
            seq,
        }
    }

    #[test]
    fn each_receipt_sits_under_the_last_message_it_covers() {
        let seqs = [2, 5, 9];
        let rs = [
            receipt(1, "Bo", 5),
            receipt(2, "Ana", 7),
            receipt(3, "Cy", 9),
            receipt(4, "Old", 1),
            receipt(5, "Me", 9),
        ];
        let me = Some(UserId(Uuid::from_u128(5)));
        let seen = seen_by(&seqs, &rs, me);
        assert_eq!(seen.get(&5).unwrap(), &["Ana", "Bo"]);
        assert_eq!(seen.get(&9).unwrap(), &["Cy"]);
        assert_eq!(
            seen.len(),
            2,
            "before the first message and one's own show nowhere"
        );
    }

    #[test]
    fn markers_only_move_forward() {
        let mut held = HashMap::new();
        merge(&mut held, receipt(1, "Bo", 5));
        merge(&mut held, receipt(1, "Bo", 3));
        assert_eq!(held.values().next().unwrap().seq, 5);
        merge(&mut held, receipt(1, "Bo", 8));
        assert_eq!(held.values().next().unwrap().seq, 8);
    }

    #[test]
    fn the_line_names_a_few_and_counts_the_rest() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(seen_text(&names(&["Bo"]), true), "Seen");
        assert_eq!(seen_text(&names(&["Bo"]), false), "Seen by Bo");
        assert_eq!(
            seen_text(&names(&["Ana", "Bo"]), false),
            "Seen by Ana and Bo"
        );
        assert_eq!(
            seen_text(&names(&["Ana", "Bo", "Cy"]), false),
            "Seen by Ana, Bo and Cy"
        );
        assert_eq!(
            seen_text(&names(&["A", "B", "C", "D"]), false),
            "Seen by A, B, C and 1 other"
        );
        assert_eq!(
            seen_text(&names(&["A", "B", "C", "D", "E"]), false),
            "Seen by A, B, C and 2 others"
        );
    }
}

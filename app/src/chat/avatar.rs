//! A person's avatar and how the message list groups a person's messages. The avatar is
//! their picture if they set one ([`picture_url`]), else their initials on one of [`PALETTE`] colours chosen from their id (the same on every screen
//! and every visit); a message continues its group, and shows no avatar or name again,
//! when the one before it is by the same person, of the same day, within
//! [`GROUP_WITHIN_MS`], and nothing (a notice, a divider) stands between. Pure logic.

use protocol::ids::UserId;

/// Where `user`'s avatar picture of `version` (`UserView::avatar`) is served: a new picture
/// has a new URL, so the browser may keep each.
pub fn picture_url(user: UserId, version: i64) -> String {
    format!("/avatars/{}?v={version}", user.0)
}

/// Messages of one person this close together share one avatar and name.
pub const GROUP_WITHIN_MS: i64 = 5 * 60_000;

/// Up to two letters: the first of the first and last words of `name` ("Ana Lima" → "AL",
/// "bo" → "B"); "?" for a name without letters.
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect();
    let first = |w: &str| {
        w.chars()
            .find(|c| c.is_alphanumeric())
            .map(|c| c.to_uppercase().collect::<String>())
            .unwrap_or_default()
    };
    match words.as_slice() {
        [] => "?".to_string(),
        [one] => first(one),
        [a, .., b] => format!("{}{}", first(a), first(b)),
    }
}

/// How many colours avatars take (`avatar--c0` … in the stylesheet).
pub const PALETTE: u8 = 12;

/// The colour (0 to [`PALETTE`] − 1) of `user`'s avatar: spread by their id, so
/// neighbours usually differ. (Classes, not inline styles: the page's CSP allows none.)
pub fn colour(user: UserId) -> u8 {
    let bytes = user.0.as_bytes();
    // FNV-1a over the id's bytes: cheap, stable, well spread.
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    (h % u32::from(PALETTE)) as u8
}

/// Whether a message by `author` at `at` continues the group of the one before it
/// (`previous`: its author and time), with nothing between them (`separated`).
pub fn continues(
    previous: Option<(UserId, i64)>,
    author: UserId,
    at: i64,
    separated: bool,
) -> bool {
    !separated
        && previous
            .is_some_and(|(who, when)| who == author && at >= when && at - when <= GROUP_WITHIN_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ids::Uuid;

    fn user(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }

    #[test]
    fn initials_take_the_first_and_last_words() {
        assert_eq!(initials("Ana Lima"), "AL");
        assert_eq!(initials("bo"), "B");
        assert_eq!(initials("Maria da Graça Souza"), "MS");
        assert_eq!(initials("  élan  vital "), "ÉV");
        assert_eq!(initials("🙂 Cy"), "C");
        assert_eq!(initials("!!!"), "?");
        assert_eq!(initials(""), "?");
    }

    #[test]
    fn a_colour_is_stable_per_person_and_spread_between_people() {
        assert_eq!(colour(user(7)), colour(user(7)));
        let mut counts = [0u32; PALETTE as usize];
        for n in 0..1200u128 {
            // Ids spread like random ones.
            let id = n.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
            counts[colour(user(id)) as usize] += 1;
        }
        assert!(
            counts.iter().all(|c| (50..=150).contains(c)),
            "1,200 people spread over the palette unevenly: {counts:?}"
        );
    }

    #[test]
    fn a_picture_url_names_the_person_and_the_version() {
        assert_eq!(
            picture_url(user(1), 1_700_000_000_123),
            "/avatars/00000000-0000-0000-0000-000000000001?v=1700000000123"
        );
        assert_ne!(picture_url(user(1), 1), picture_url(user(1), 2));
    }

    #[test]
    fn a_group_is_one_person_within_minutes_with_nothing_between() {
        let (ana, bo) = (user(1), user(2));
        assert!(continues(Some((ana, 0)), ana, 60_000, false));
        assert!(continues(Some((ana, 0)), ana, GROUP_WITHIN_MS, false));
        assert!(!continues(Some((ana, 0)), ana, GROUP_WITHIN_MS + 1, false));
        assert!(!continues(Some((ana, 0)), bo, 1_000, false));
        assert!(
            !continues(Some((ana, 0)), ana, 1_000, true),
            "a divider between"
        );
        assert!(!continues(None, ana, 0, false));
    }
}

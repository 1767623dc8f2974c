//! A message's versions as its edit history shows them, newest first: the body it has
//! now, then each earlier body with the time it was written (the message's creation for
//! the first, the edit that brought it for the others). Pure logic, no I/O.

use super::api::Revision;

/// One version of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub body: String,
    /// When it was written (Unix ms).
    pub since: i64,
    /// "Now", "Edited" or "Original".
    pub label: &'static str,
}

/// Every version, newest first, from the message's body now, its creation and last edit
/// times, and its earlier bodies (oldest first, as the server lists them).
pub fn versions(body: &str, created_at: i64, edited_at: i64, earlier: &[Revision]) -> Vec<Version> {
    let mut out = Vec::with_capacity(earlier.len() + 1);
    out.push(Version {
        body: body.to_string(),
        since: earlier.last().map_or(edited_at, |r| r.replaced_at),
        label: "Now",
    });
    for (i, r) in earlier.iter().enumerate().rev() {
        let (since, label) = match i {
            0 => (created_at, "Original"),
            _ => (earlier[i - 1].replaced_at, "Edited"),
        };
        out.push(Version {
            body: r.body.clone(),
            since,
            label,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(body: &str, replaced_at: i64) -> Revision {
        Revision {
            body: body.into(),
            replaced_at,
        }
    }

    #[test]
    fn newest_first_each_dated_by_what_brought_it() {
        let shown = versions("hello!", 100, 300, &[rev("helo", 200), rev("hello", 300)]);
        let plain: Vec<(&str, i64, &str)> = shown
            .iter()
            .map(|v| (v.body.as_str(), v.since, v.label))
            .collect();
        assert_eq!(
            plain,
            [
                ("hello!", 300, "Now"),
                ("hello", 200, "Edited"),
                ("helo", 100, "Original")
            ]
        );
    }

    #[test]
    fn without_a_history_only_the_body_now_is_shown() {
        // A history not kept (edited before histories were) still shows the message.
        let shown = versions("hi", 100, 150, &[]);
        assert_eq!(
            shown,
            [Version {
                body: "hi".into(),
                since: 150,
                label: "Now"
            }]
        );
    }
}

//! What a message search looks for: the words of what the person typed. The server turns
//! them into each database's full-text query (every word must match, each as a prefix),
//! and the browser marks the same words in the hits, so both read a query one way.

/// Most words a query keeps; the rest are ignored.
pub const TERMS_MAX: usize = 8;
/// Longest word kept, in characters (a longer one is cut).
pub const TERM_CHARS_MAX: usize = 64;

/// The words of `query`, lower case, in order, without repeats: runs of letters and
/// digits (anything else separates words, so no query syntax survives).
pub fn terms(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        let word: String = word
            .chars()
            .take(TERM_CHARS_MAX)
            .flat_map(char::to_lowercase)
            .collect();
        if !out.contains(&word) {
            out.push(word);
        }
        if out.len() == TERMS_MAX {
            break;
        }
    }
    out
}

/// Whether `word` (any case) is a hit for one of `terms`: it starts with it.
pub fn word_matches(word: &str, terms: &[String]) -> bool {
    let lower = word.to_lowercase();
    terms.iter().any(|t| lower.starts_with(t.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_case_runs_of_letters_and_digits() {
        assert_eq!(
            terms("Deploy the v2 build!"),
            ["deploy", "the", "v2", "build"]
        );
        assert_eq!(terms("  Zürich  café "), ["zürich", "café"]);
    }

    #[test]
    fn query_syntax_is_only_separators() {
        // FTS5 and tsquery operators, quotes and wildcards never reach a database.
        assert_eq!(
            terms("\"a\" OR b* & !c | d:* NEAR(e)"),
            ["a", "or", "b", "c", "d", "near", "e"]
        );
        assert!(terms("*:&|!()\"'-").is_empty());
        assert!(terms("").is_empty());
    }

    #[test]
    fn repeats_are_dropped_and_the_count_is_bounded() {
        assert_eq!(terms("ship Ship SHIP it"), ["ship", "it"]);
        let many = (0..20)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(terms(&many).len(), TERMS_MAX);
        assert_eq!(terms(&"x".repeat(500))[0].chars().count(), TERM_CHARS_MAX);
    }

    #[test]
    fn a_word_matches_a_term_it_starts_with() {
        let t = terms("depl");
        assert!(word_matches("Deploying", &t));
        assert!(!word_matches("redeploy", &t));
    }
}

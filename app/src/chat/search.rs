//! Showing a search hit: its body split into runs, the words the search matched marked
//! (by the same words the server searched for, [`protocol::search::terms`]). Pure, so the
//! view only maps runs to text and `<mark>` elements: a body is never HTML.

use protocol::search::word_matches;

/// One run of a body: its text, and whether it is a matched word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub text: String,
    pub hit: bool,
}

/// `body` as runs: each word (letters and digits) that starts with one of `terms` is a
/// hit; everything between is plain. Adjacent plain text is one run.
pub fn marked(body: &str, terms: &[String]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut push = |text: &str, hit: bool| match runs.last_mut() {
        Some(last) if !hit && !last.hit => last.text.push_str(text),
        _ => runs.push(Run {
            text: text.to_string(),
            hit,
        }),
    };
    let mut start = 0;
    let mut in_word = false;
    for (i, c) in body.char_indices() {
        let word_char = c.is_alphanumeric();
        if word_char != in_word && i > start {
            let piece = &body[start..i];
            push(piece, in_word && word_matches(piece, terms));
            start = i;
        }
        in_word = word_char;
    }
    if start < body.len() {
        let piece = &body[start..];
        push(piece, in_word && word_matches(piece, terms));
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::search::terms;

    fn show(runs: &[Run]) -> String {
        runs.iter()
            .map(|r| {
                if r.hit {
                    format!("[{}]", r.text)
                } else {
                    r.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn matched_words_are_marked_whole_and_the_rest_is_kept() {
        let t = terms("build depl");
        assert_eq!(
            show(&marked("Deploying the new BUILD, rebuild later.", &t)),
            "[Deploying] the new [BUILD], rebuild later."
        );
    }

    #[test]
    fn the_runs_spell_the_body_exactly() {
        let body = "  <b>café</b> & 日本語 builds ";
        let runs = marked(body, &terms("café builds 日本"));
        assert_eq!(
            runs.iter().map(|r| r.text.as_str()).collect::<String>(),
            body
        );
        assert_eq!(show(&runs), "  <b>[café]</b> & [日本語] [builds] ");
    }

    #[test]
    fn no_terms_or_no_text_is_one_plain_run_or_none() {
        assert_eq!(show(&marked("hello there", &[])), "hello there");
        assert_eq!(marked("hello there", &[]).len(), 1);
        assert!(marked("", &terms("x")).is_empty());
    }
}

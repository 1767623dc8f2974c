//! Tests of message formatting: the subset, what stays literal, nesting and mentions.

use super::*;

fn t(s: &str) -> Node {
    Node::Text(s.into())
}
fn code(s: &str) -> Node {
    Node::Code(s.into())
}
fn strong(c: Vec<Node>) -> Node {
    Node::Strong(c)
}
fn em(c: Vec<Node>) -> Node {
    Node::Em(c)
}
fn link(href: &str, c: Vec<Node>) -> Node {
    Node::Link {
        href: href.into(),
        children: c,
    }
}

#[test]
fn plain_text_is_one_text_node() {
    assert_eq!(parse("hello\nworld"), vec![t("hello\nworld")]);
    assert_eq!(parse(""), Vec::<Node>::new());
}

#[test]
fn bold_and_both_italics() {
    assert_eq!(
        parse("a **b** *c* _d_ e"),
        vec![
            t("a "),
            strong(vec![t("b")]),
            t(" "),
            em(vec![t("c")]),
            t(" "),
            em(vec![t("d")]),
            t(" e"),
        ]
    );
}

#[test]
fn formatting_nests() {
    assert_eq!(
        parse("**bold _and italic_ here**"),
        vec![strong(vec![
            t("bold "),
            em(vec![t("and italic")]),
            t(" here")
        ])]
    );
    assert_eq!(
        parse("*it **bold** it*"),
        vec![em(vec![t("it "), strong(vec![t("bold")]), t(" it")])]
    );
    assert_eq!(parse("***x***"), vec![strong(vec![em(vec![t("x")])])]);
    assert_eq!(
        parse("**see `code`**"),
        vec![strong(vec![t("see "), code("code")])]
    );
}

#[test]
fn unclosed_markers_stay_literal() {
    for s in [
        "**bold",
        "*it",
        "_it",
        "`code",
        "```block",
        "a ** b",
        "[text](x.y",
    ] {
        assert_eq!(parse(s), vec![t(s)], "{s}");
    }
    // An unclosed labelled link leaves its address a bare link.
    assert_eq!(
        parse("[text](https://x.y"),
        vec![t("[text]("), link("https://x.y", vec![t("https://x.y")])]
    );
    assert_eq!(parse("**a *b** c"), vec![strong(vec![t("a *b")]), t(" c")]);
}

#[test]
fn markers_need_a_word_next_to_them_and_never_open_inside_one() {
    for s in [
        "snake_case_name",
        "2*3*4",
        "a * b * c",
        "** not bold **",
        "_ spaced _",
    ] {
        assert_eq!(parse(s), vec![t(s)], "{s}");
    }
    assert_eq!(parse("(*x*)"), vec![t("("), em(vec![t("x")]), t(")")]);
}

#[test]
fn code_spans_do_not_format_their_content() {
    assert_eq!(
        parse("run `a **b** _c_ https://x.y` now"),
        vec![t("run "), code("a **b** _c_ https://x.y"), t(" now")]
    );
    // A marker inside a code span does not close emphasis outside it.
    assert_eq!(
        parse("*a `*` b*"),
        vec![em(vec![t("a "), code("*"), t(" b")])]
    );
    assert_eq!(parse("``"), vec![t("``")]);
    assert_eq!(parse("`a\nb`"), vec![t("`a\nb`")]);
}

#[test]
fn fenced_blocks_are_verbatim_and_drop_the_newlines_next_to_the_fences() {
    assert_eq!(
        parse("before\n```\nfn main() { **x** }\n<b>\n```\nafter *it*"),
        vec![
            t("before\n"),
            Node::CodeBlock("fn main() { **x** }\n<b>".into()),
            t("after "),
            em(vec![t("it")]),
        ]
    );
    assert_eq!(
        parse("```one line```"),
        vec![Node::CodeBlock("one line".into())]
    );
}

#[test]
fn html_is_only_ever_text() {
    let s = "<script>alert(1)</script> <img src=x onerror=alert(1)> &amp;";
    assert_eq!(parse(s), vec![t(s)]);
    assert_eq!(parse("**<b>hi</b>**"), vec![strong(vec![t("<b>hi</b>")])]);
}

#[test]
fn bare_links_become_links_and_keep_their_neighbours() {
    assert_eq!(
        parse("see https://example.com/a_b_c, **ok**"),
        vec![
            t("see "),
            link(
                "https://example.com/a_b_c",
                vec![t("https://example.com/a_b_c")]
            ),
            t(", "),
            strong(vec![t("ok")]),
        ]
    );
    // Markers inside an address do not end emphasis.
    assert_eq!(
        parse("_go http://x.y/a_b_ now_"),
        vec![em(vec![
            t("go "),
            link("http://x.y/a_b_", vec![t("http://x.y/a_b_")]),
            t(" now"),
        ])]
    );
}

#[test]
fn labelled_links_take_only_http_and_https() {
    assert_eq!(
        parse("[the **docs**](https://d.example/x?y=1) !"),
        vec![
            link(
                "https://d.example/x?y=1",
                vec![t("the "), strong(vec![t("docs")])]
            ),
            t(" !"),
        ]
    );
    for s in [
        "[x](javascript:alert(1))",
        "[x](JavaScript:alert(1))",
        "[x](data:text/html,<script>)",
        "[x](//evil.example)",
        "[x](https://)",
        "[](https://a.b)",
        "[x] (https://a.b)",
    ] {
        let nodes = parse(s);
        assert!(
            !nodes
                .iter()
                .any(|n| matches!(n, Node::Link { href, .. } if !href.starts_with("http"))),
            "{s}: {nodes:?}"
        );
        assert_eq!(plain(&nodes), s, "{s}");
    }
    assert_eq!(
        parse("[x](javascript:alert(1))"),
        vec![t("[x](javascript:alert(1))")]
    );
}

#[test]
fn a_labelled_link_holds_no_other_link() {
    assert_eq!(
        parse("[https://a.b](https://c.d)"),
        vec![link("https://c.d", vec![t("https://a.b")])]
    );
}

#[test]
fn deep_nesting_stops_at_the_limit_and_keeps_every_character() {
    let deep = "*_".repeat(40) + "x" + &"_*".repeat(40);
    let nodes = parse(&deep);
    assert_eq!(plain(&nodes).replace(['*', '_'], ""), "x");
    fn depth(nodes: &[Node]) -> usize {
        nodes
            .iter()
            .map(|n| match n {
                Node::Strong(c) | Node::Em(c) | Node::Link { children: c, .. } => 1 + depth(c),
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }
    assert!(depth(&nodes) <= MAX_DEPTH, "{}", depth(&nodes));
    assert!(depth(&nodes) > 1);
}

#[test]
fn every_character_survives_parsing() {
    // Formatting only ever removes its own markers; text and code come out whole.
    for s in [
        "a **b** c",
        "`x` **y** _z_ https://a.b/c",
        "```\nq\n```",
        "mixed *up **markers_ here",
        "ünïcødé *ç*",
    ] {
        let text = plain(&parse(s));
        let stripped: String = s.chars().filter(|c| !"*_`".contains(*c)).collect();
        assert_eq!(
            text.chars()
                .filter(|c| !"*_`\n".contains(*c))
                .collect::<String>(),
            stripped.replace('\n', ""),
            "{s}"
        );
    }
}

fn mentioned(nodes: &[Node], out: &mut Vec<String>) {
    for node in nodes {
        match node {
            Node::Mention(_) => {
                let handle = node.mentioned().unwrap();
                if !out.contains(&handle) {
                    out.push(handle);
                }
            }
            Node::Strong(c) | Node::Em(c) | Node::Link { children: c, .. } => mentioned(c, out),
            _ => {}
        }
    }
}

#[test]
fn mentions_are_nodes_outside_code() {
    assert_eq!(
        parse("hi @Bob, **@ann** `@no` mail a@b.c"),
        vec![
            t("hi "),
            Node::Mention("@Bob".into()),
            t(", "),
            strong(vec![Node::Mention("@ann".into())]),
            t(" "),
            code("@no"),
            t(" mail a@b.c"),
        ]
    );
}

#[test]
fn highlighted_mentions_are_the_ones_the_server_counts() {
    for body in [
        "@bob and @Alice, then @bob",
        "`x`@bob ```\n@carol\n```\n@dan",
        "``` @bob",
        "_@emma_ and *@finn* [see @gus](https://x.org/@hal) https://x.org/@ivy",
        "thanks @jo. @room @roomy x/@kim (@lee)",
        "**bold @max** ~@ned~ <@oli> ;@pat",
    ] {
        let mut shown = Vec::new();
        mentioned(&parse(body), &mut shown);
        let scanned = protocol::mentions::scan(body);
        let mut counted = scanned.handles.clone();
        if scanned.everyone {
            counted.push("room".into());
        }
        shown.sort();
        counted.sort();
        assert_eq!(shown, counted, "{body:?}");
    }
}

//! A message body as view nodes, shared by the message list and the thread pane:
//! formatted ([`crate::chat::format`]) into nodes, never HTML: text stays text, and
//! only http(s) links become anchors.

use leptos::prelude::*;

use crate::chat::format::{Node, parse};
use crate::chat::state::use_chat;

/// A message body, formatted: text nodes, `strong`/`em`/`code`/`pre` elements, mentions
/// (marked when they name the reader), and http(s) links as anchors that open elsewhere. (A `div` holds it: a `pre` may not sit
/// inside a `p`.)
#[component]
pub fn Formatted(text: String) -> impl IntoView {
    nodes_view(parse(&text))
}

fn nodes_view(nodes: Vec<Node>) -> AnyView {
    nodes
        .into_iter()
        .map(|node| match node {
            Node::Text(t) => t.into_any(),
            Node::Code(c) => view! { <code>{c}</code> }.into_any(),
            Node::CodeBlock(c) => view! { <pre><code>{c}</code></pre> }.into_any(),
            Node::Strong(c) => view! { <strong>{nodes_view(c)}</strong> }.into_any(),
            Node::Em(c) => view! { <em>{nodes_view(c)}</em> }.into_any(),
            Node::Mention(text) => {
                let handle = Node::Mention(text.clone()).mentioned().unwrap_or_default();
                // Found now, while rendering: the closure may run as the view is taken down.
                let chat = use_chat();
                let me = move || {
                    handle == protocol::mentions::EVERYONE
                        || chat.me.with(|m| m.as_ref().is_some_and(|m| m.handle == handle))
                };
                view! { <span class="mention" class:mention--me=me data-testid="mention">{text}</span> }
                    .into_any()
            }
            Node::Link { href, children } => view! {
                <a href=href target="_blank" rel="noopener noreferrer nofollow">{nodes_view(children)}</a>
            }
            .into_any(),
        })
        .collect_view()
        .into_any()
}

//! The accounts a run connects as: `handle<TAB>token` lines, as `confab user bots` prints.

use anyhow::{Context, bail};

/// One account.
#[derive(Debug, Clone)]
pub struct Bot {
    pub handle: String,
    pub token: String,
}

/// Parses `handle<TAB>token` lines (blank lines are skipped).
pub fn parse(text: &str) -> anyhow::Result<Vec<Bot>> {
    let mut bots = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((handle, token)) = line.split_once('\t') else {
            bail!("line {}: expected handle<TAB>token", n + 1);
        };
        bots.push(Bot {
            handle: handle.trim().to_string(),
            token: token.trim().to_string(),
        });
    }
    Ok(bots)
}

/// Reads a bots file.
pub fn read(path: &std::path::Path) -> anyhow::Result<Vec<Bot>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading bots from {}", path.display()))?;
    parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_bots() {
        let bots = parse("lg0\tcfb_a\n\nlg1\tcfb_b\n").unwrap();
        assert_eq!(bots.len(), 2);
        assert_eq!(bots[1].handle, "lg1");
        assert_eq!(bots[1].token, "cfb_b");
        assert!(parse("no tab here").is_err());
    }
}

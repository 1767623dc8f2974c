//! `confab user …` and `confab token …`: account administration from the command line,
//! against the configured store (so it works on SQLite and Postgres alike). Output is
//! plain text on stdout; secrets are printed once and never logged.

use anyhow::{Context, bail};
use protocol::ids::TokenId;
use protocol::names::{DisplayName, Handle, Password};
use std::io::Read;

use crate::config::{Settings, TokenCommand, UserCommand};

/// Runs `confab user …`.
pub async fn user(settings: &Settings, command: UserCommand) -> anyhow::Result<()> {
    let store = store::open(&settings.store_config())
        .await
        .context("opening the store")?;
    match command {
        UserCommand::Create { handle, name } => {
            let handle = Handle::parse(&handle)?;
            let display = DisplayName::parse(name.as_deref().unwrap_or(handle.as_str()))?;
            let password = match std::env::var("CONFAB_NEW_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut p = String::new();
                    std::io::stdin()
                        .read_to_string(&mut p)
                        .context("reading the password from stdin")?;
                    p.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let password = Password::parse_new(&password)?;
            let hash = app::ssr::passwords::hash(&password).await?;
            let user = store.create_user(&handle, &display, &hash).await?;
            println!("created user @{} ({})", user.handle, user.id);
        }
        UserCommand::Deactivate { handle } => {
            let handle = Handle::parse(&handle)?;
            let Some(user) = store.user_by_handle(&handle).await? else {
                bail!("no user @{handle}");
            };
            if store.deactivate_user(user.id).await? {
                println!("deactivated @{handle}");
            } else {
                println!("@{handle} was deactivated already");
            }
        }
        UserCommand::Admin { handle, revoke } => {
            let handle = Handle::parse(&handle)?;
            let Some(user) = store.user_by_handle(&handle).await? else {
                bail!("no user @{handle}");
            };
            let changed = store.set_site_admin(user.id, !revoke).await?;
            let now = if revoke {
                "not a site admin"
            } else {
                "a site admin"
            };
            if changed {
                println!("@{handle} is now {now}");
            } else {
                println!("@{handle} was {now} already");
            }
        }
        UserCommand::Bots { prefix, count } => {
            use std::io::Write;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for i in 0..count {
                let handle = Handle::parse(&format!("{prefix}{i}"))?;
                let display = DisplayName::parse(handle.as_str())?;
                // Not a password hash: every log-in as a bot fails; bots use their token.
                let user = store.create_user(&handle, &display, BOT_PASSWORD).await?;
                let secret = app::ssr::tokens::generate();
                let hash = app::ssr::tokens::lookup_hash(&secret)
                    .expect("generated tokens are well-formed");
                store.create_api_token(user.id, "bot", &hash).await?;
                writeln!(out, "{}\t{secret}", user.handle)?;
            }
            out.flush()?;
            eprintln!("created {count} bots @{prefix}0…@{prefix}{}", count - 1);
        }
    }
    Ok(())
}

/// What a bot has instead of a password hash (no password verifies against it).
const BOT_PASSWORD: &str = "!bot";

/// Runs `confab token …`.
pub async fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    let store = store::open(&settings.store_config())
        .await
        .context("opening the store")?;
    let find = |handle: String| {
        let store = store.clone();
        async move {
            let handle = Handle::parse(&handle)?;
            match store.user_by_handle(&handle).await? {
                Some(user) => Ok::<_, anyhow::Error>(user),
                None => bail!("no user @{handle}"),
            }
        }
    };
    match command {
        TokenCommand::Create { user, name } => {
            let user = find(user).await?;
            let secret = app::ssr::tokens::generate();
            let hash =
                app::ssr::tokens::lookup_hash(&secret).expect("generated tokens are well-formed");
            let token = store.create_api_token(user.id, &name, &hash).await?;
            eprintln!("token {} for @{} (shown once):", token.id, user.handle);
            println!("{secret}");
        }
        TokenCommand::List { user } => {
            let user = find(user).await?;
            for t in store.api_tokens(user.id).await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!("{}\t{}\t{}", t.id, state, t.name);
            }
        }
        TokenCommand::Revoke { user, id } => {
            let user = find(user).await?;
            let id: TokenId = id.parse().context("a token id is a UUID")?;
            if !store.revoke_api_token(user.id, id).await? {
                bail!("@{} has no active token {id}", user.handle);
            }
            println!("revoked {id}");
        }
    }
    Ok(())
}

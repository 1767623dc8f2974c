-- Confab's initial schema (SQLite): accounts, API tokens, sessions, rooms, memberships,
-- messages and the per-room event log that carries every room's total order.

create table users (
    id blob primary key not null,
    handle text not null unique,          -- lower case, validated by protocol::names::Handle
    display_name text not null,
    password_hash text not null,          -- argon2id PHC string
    created_at integer not null
);

create table api_tokens (
    id blob primary key not null,
    user_id blob not null references users (id) on delete cascade,
    name text not null,
    token_hash blob not null unique,      -- SHA-256 of the secret; the secret is never stored
    created_at integer not null,
    last_used_at integer,
    revoked_at integer
);
create index api_tokens_by_user on api_tokens (user_id);

create table sessions (
    id text primary key not null,         -- tower-sessions session id
    data blob not null,
    expiry_date integer not null          -- unix seconds
);
create index sessions_by_expiry on sessions (expiry_date);

create table rooms (
    id blob primary key not null,
    kind text not null check (kind in ('public', 'private', 'dm')),
    name text unique,                     -- null for direct messages
    topic text not null default '',
    created_by blob not null references users (id),
    created_at integer not null,
    last_seq integer not null default 0,  -- the seq of the room's newest event
    dm_key text unique                    -- '<smaller user id>:<larger user id>' for DMs
);

create table memberships (
    room_id blob not null references rooms (id) on delete cascade,
    user_id blob not null references users (id) on delete cascade,
    joined_at integer not null,
    last_read_seq integer not null default 0,
    primary key (room_id, user_id)
);
create index memberships_by_user on memberships (user_id);

create table messages (
    id blob primary key not null,
    room_id blob not null references rooms (id) on delete cascade,
    seq integer not null,                 -- seq of the event that created it
    author_id blob not null references users (id),
    body text not null,                   -- emptied when deleted (tombstone)
    client_msg_id text not null,
    created_at integer not null,
    edited_at integer,
    deleted integer not null default 0,
    unique (room_id, seq),
    unique (room_id, author_id, client_msg_id)
);

-- Every change to a room's messages, in order: a new message, an edit, a delete.
create table room_events (
    room_id blob not null references rooms (id) on delete cascade,
    seq integer not null,
    kind text not null check (kind in ('message', 'edited', 'deleted')),
    message_id blob not null references messages (id),
    created_at integer not null,
    primary key (room_id, seq)
) without rowid;

-- Confab's initial schema (Postgres): accounts, API tokens, sessions, rooms, memberships,
-- messages and the per-room event log that carries every room's total order.

create table users (
    id uuid primary key,
    handle text not null unique,          -- lower case, validated by protocol::names::Handle
    display_name text not null,
    password_hash text not null,          -- argon2id PHC string
    created_at bigint not null
);

create table api_tokens (
    id uuid primary key,
    user_id uuid not null references users (id) on delete cascade,
    name text not null,
    token_hash bytea not null unique,     -- SHA-256 of the secret; the secret is never stored
    created_at bigint not null,
    last_used_at bigint,
    revoked_at bigint
);
create index api_tokens_by_user on api_tokens (user_id);

create table sessions (
    id text primary key,                  -- tower-sessions session id
    data bytea not null,
    expiry_date bigint not null           -- unix seconds
);
create index sessions_by_expiry on sessions (expiry_date);

create table rooms (
    id uuid primary key,
    kind text not null check (kind in ('public', 'private', 'dm')),
    name text unique,                     -- null for direct messages
    topic text not null default '',
    created_by uuid not null references users (id),
    created_at bigint not null,
    last_seq bigint not null default 0,   -- the seq of the room's newest event
    dm_key text unique                    -- '<smaller user id>:<larger user id>' for DMs
);

create table memberships (
    room_id uuid not null references rooms (id) on delete cascade,
    user_id uuid not null references users (id) on delete cascade,
    joined_at bigint not null,
    last_read_seq bigint not null default 0,
    primary key (room_id, user_id)
);
create index memberships_by_user on memberships (user_id);

create table messages (
    id uuid primary key,
    room_id uuid not null references rooms (id) on delete cascade,
    seq bigint not null,                  -- seq of the event that created it
    author_id uuid not null references users (id),
    body text not null,                   -- emptied when deleted (tombstone)
    client_msg_id text not null,
    created_at bigint not null,
    edited_at bigint,
    deleted boolean not null default false,
    unique (room_id, seq),
    unique (room_id, author_id, client_msg_id)
);

-- Every change to a room's messages, in order: a new message, an edit, a delete.
create table room_events (
    room_id uuid not null references rooms (id) on delete cascade,
    seq bigint not null,
    kind text not null check (kind in ('message', 'edited', 'deleted')),
    message_id uuid not null references messages (id),
    created_at bigint not null,
    primary key (room_id, seq)
);

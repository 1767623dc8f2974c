-- Reactions: who reacted to which message with which emoji. Adding or removing one is a
-- room event of its own kind ('reaction', with its own seq), so that resumes and
-- snapshots carry it; room_events' kinds widen to take it. SQLite cannot change a check
-- constraint, so that table is rebuilt with the same rows (nothing refers to it).

create table reactions (
    message_id blob not null references messages (id) on delete cascade,
    user_id blob not null references users (id) on delete cascade,
    emoji text not null,                  -- validated by protocol::names::Emoji
    seq integer not null,                 -- the seq of the room event that added it (their order)
    created_at integer not null,
    primary key (message_id, emoji, user_id)
) without rowid;

create table room_events_new (
    room_id blob not null references rooms (id) on delete cascade,
    seq integer not null,
    kind text not null check (kind in ('message', 'edited', 'deleted', 'reaction')),
    message_id blob not null references messages (id),
    created_at integer not null,
    primary key (room_id, seq)
) without rowid;
insert into room_events_new (room_id, seq, kind, message_id, created_at)
    select room_id, seq, kind, message_id, created_at from room_events;
drop table room_events;
alter table room_events_new rename to room_events;

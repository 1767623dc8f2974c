-- Reactions: who reacted to which message with which emoji. Adding or removing one is a
-- room event of its own kind ('reaction', with its own seq), so that resumes and
-- snapshots carry it; room_events' kinds widen to take it.

create table reactions (
    message_id uuid not null references messages (id) on delete cascade,
    user_id uuid not null references users (id) on delete cascade,
    emoji text not null,                  -- validated by protocol::names::Emoji
    seq bigint not null,                  -- the seq of the room event that added it (their order)
    created_at bigint not null,
    primary key (message_id, emoji, user_id)
);

alter table room_events drop constraint room_events_kind_check;
alter table room_events add constraint room_events_kind_check
    check (kind in ('message', 'edited', 'deleted', 'reaction'));

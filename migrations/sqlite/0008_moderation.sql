-- Roles and moderation (docs/moderation.md): a role per membership (the creator of a
-- public or private room owns it), site admins, bans, who removed a message that was not
-- theirs, pins, and notice messages (a member removed or banned, in the room's order).
-- room_events' kinds widen to take 'pinned'; SQLite cannot change a check constraint, so
-- that table is rebuilt with the same rows, as in 0003.

alter table memberships add column role text not null default 'member'
    check (role in ('owner', 'admin', 'member'));
update memberships set role = 'owner'
    where exists (select 1 from rooms r where r.id = memberships.room_id
                  and r.created_by = memberships.user_id and r.kind <> 'dm');

alter table users add column site_admin integer not null default 0;

create table bans (
    room_id blob not null references rooms (id) on delete cascade,
    user_id blob not null references users (id) on delete cascade,
    banned_by blob not null references users (id),
    created_at integer not null,
    primary key (room_id, user_id)
) without rowid;

alter table messages add column removed_by blob references users (id);  -- a moderator deleted it
alter table messages add column pinned_by blob references users (id);
alter table messages add column pinned_at integer;
alter table messages add column notice text;                            -- 'member_removed' or 'member_banned'
alter table messages add column notice_user blob references users (id); -- whom the notice is about
create index messages_pinned on messages (room_id, pinned_at) where pinned_at is not null;

create table room_events_new (
    room_id blob not null references rooms (id) on delete cascade,
    seq integer not null,
    kind text not null check (kind in ('message', 'edited', 'deleted', 'reaction', 'pinned')),
    message_id blob not null references messages (id),
    created_at integer not null,
    primary key (room_id, seq)
) without rowid;
insert into room_events_new (room_id, seq, kind, message_id, created_at)
    select room_id, seq, kind, message_id, created_at from room_events;
drop table room_events;
alter table room_events_new rename to room_events;

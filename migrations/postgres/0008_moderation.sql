-- Roles and moderation (docs/moderation.md): a role per membership (the creator of a
-- public or private room owns it), site admins, bans, who removed a message that was not
-- theirs, pins, and notice messages (a member removed or banned, in the room's order).

alter table memberships add column role text not null default 'member'
    check (role in ('owner', 'admin', 'member'));
update memberships m set role = 'owner'
    from rooms r where r.id = m.room_id and r.created_by = m.user_id and r.kind <> 'dm';

alter table users add column site_admin boolean not null default false;

create table bans (
    room_id uuid not null references rooms (id) on delete cascade,
    user_id uuid not null references users (id) on delete cascade,
    banned_by uuid not null references users (id),
    created_at bigint not null,
    primary key (room_id, user_id)
);

alter table messages add column removed_by uuid references users (id);  -- a moderator deleted it
alter table messages add column pinned_by uuid references users (id);
alter table messages add column pinned_at bigint;
alter table messages add column notice text;                            -- 'member_removed' or 'member_banned'
alter table messages add column notice_user uuid references users (id); -- whom the notice is about
create index messages_pinned on messages (room_id, pinned_at) where pinned_at is not null;

alter table room_events drop constraint room_events_kind_check;
alter table room_events add constraint room_events_kind_check
    check (kind in ('message', 'edited', 'deleted', 'reaction', 'pinned'));

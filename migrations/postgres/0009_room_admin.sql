-- Room administration (docs/moderation.md): a description beside the topic, archiving
-- (read-only, hidden from Browse), the details of a notice that records a room's change,
-- and invite links (a link's secret is stored as its SHA-256 only).

alter table rooms add column description text not null default '';
alter table rooms add column archived_at bigint;
alter table messages add column notice_detail text;  -- JSON: what a 'room_updated' notice changed

create table room_invites (
    token_hash bytea primary key,
    room_id uuid not null references rooms (id) on delete cascade,
    created_by uuid not null references users (id),
    created_at bigint not null,
    expires_at bigint not null
);
create index room_invites_by_room on room_invites (room_id);

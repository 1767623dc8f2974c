-- Files uploaded to rooms. A file is uploaded first (message_id null) and attached by the
-- send that names it; deleting the message marks it removed, and the purge sweep deletes
-- the row (and its bytes, by cascade). On Postgres the bytes are in file_blobs, written in
-- the same transaction as the record, so every node serves every file.

create table files (
    id uuid primary key,
    room_id uuid not null references rooms (id) on delete cascade,
    uploader_id uuid not null references users (id) on delete cascade,
    message_id uuid references messages (id),
    position integer not null default 0,  -- its place among its message's files
    name text not null,
    content_type text not null,
    size bigint not null,
    width integer,                        -- an image's size in pixels (it has a thumbnail)
    height integer,
    created_at bigint not null,
    removed_at bigint                     -- its message was deleted: no longer served
);
create index files_message on files (message_id) where message_id is not null;
create index files_sweep on files (created_at) where message_id is null or removed_at is not null;

create table file_blobs (
    file_id uuid not null references files (id) on delete cascade,
    part text not null check (part in ('original', 'thumb')),
    data bytea not null,
    primary key (file_id, part)
);

-- Files uploaded to rooms. A file is uploaded first (message_id null) and attached by the
-- send that names it; deleting the message marks it removed, and the purge sweep deletes
-- the row after its bytes. On SQLite the bytes are files on disk beside the database
-- (files/<id>, files/<id>.thumb); this table holds only what describes them.

create table files (
    id blob primary key,
    room_id blob not null references rooms (id) on delete cascade,
    uploader_id blob not null references users (id) on delete cascade,
    message_id blob references messages (id),
    position integer not null default 0,  -- its place among its message's files
    name text not null,
    content_type text not null,
    size integer not null,
    width integer,                        -- an image's size in pixels (it has a thumbnail)
    height integer,
    created_at integer not null,
    removed_at integer                    -- its message was deleted: no longer served
);
create index files_message on files (message_id) where message_id is not null;
create index files_sweep on files (created_at) where message_id is null or removed_at is not null;

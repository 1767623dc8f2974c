-- Threads: a reply names its thread's root message (a root is never itself a reply).
-- Replies are room events like any message, with the room's seq, so resume covers them;
-- room pages list roots only. thread_reads keeps how far each person has read a thread.

alter table messages add column thread_root_id blob references messages (id);
create index messages_thread on messages (thread_root_id, seq) where thread_root_id is not null;

create table thread_reads (
    root_id blob not null references messages (id) on delete cascade,
    user_id blob not null references users (id) on delete cascade,
    last_read_seq integer not null,
    primary key (root_id, user_id)
) without rowid;

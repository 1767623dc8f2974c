-- People's avatar pictures: each at most one, already cropped to a square and scaled
-- down by the server (tens of kilobytes), so they live in the database on both engines
-- and every node of a cluster serves the same one. `users.avatar_at` says when the
-- current one was set (null: none, the initials show); it versions the picture's URL.

alter table users add column avatar_at integer;

create table avatars (
    user_id blob primary key references users (id) on delete cascade,
    content_type text not null,
    bytes blob not null
) without rowid;

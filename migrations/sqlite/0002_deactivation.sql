-- Deactivated accounts: the user can no longer log in, their sessions and API tokens stop
-- working and their live connections are closed; their messages stay, under their name.
alter table users add column deactivated_at integer;
create index users_deactivated_at on users (deactivated_at) where deactivated_at is not null;

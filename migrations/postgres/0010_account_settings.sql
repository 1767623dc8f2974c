-- Account settings: each browser session names its user (so a person can list and sign
-- out their sessions), and a profile's bio and time zone.

alter table sessions add column user_id uuid references users (id) on delete cascade;
create index sessions_by_user on sessions (user_id) where user_id is not null;
alter table users add column bio text not null default '';
alter table users add column time_zone text not null default '';  -- IANA name, e.g. Europe/Lisbon

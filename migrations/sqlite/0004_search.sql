-- Full-text search over message bodies (FTS5). `message_search` is an external-content
-- index of `messages.body` keyed by the messages' rowid, kept in step by the triggers
-- below (an edit re-indexes the body; a delete empties it, which un-indexes it). Confab
-- never runs VACUUM, which may renumber rowids; after a manual one, run
--   insert into message_search (message_search) values ('rebuild');
-- The tokenizer lower-cases and keeps diacritics, as Postgres' `simple` configuration does.

create virtual table message_search using fts5 (
    body,
    content = 'messages',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 0'
);
insert into message_search (message_search) values ('rebuild');

create trigger messages_search_insert after insert on messages begin
    insert into message_search (rowid, body) values (new.rowid, new.body);
end;

create trigger messages_search_update after update of body on messages begin
    insert into message_search (message_search, rowid, body) values ('delete', old.rowid, old.body);
    insert into message_search (rowid, body) values (new.rowid, new.body);
end;

create trigger messages_search_delete after delete on messages begin
    insert into message_search (message_search, rowid, body) values ('delete', old.rowid, old.body);
end;

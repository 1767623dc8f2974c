-- Postgres drops the foreign keys of the append path here (see its 0013): each cost it a
-- query per inserted row. SQLite keeps them: it checks each with one in-process index
-- lookup, and dropping a constraint would mean rebuilding the messages table and its
-- full-text triggers. The numbering stays the same in both folders.

select 1;

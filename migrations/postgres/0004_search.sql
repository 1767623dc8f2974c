-- Full-text search over message bodies: a GIN index on the body's tsvector in the
-- `simple` configuration (lower-cased words, no stemming, no stop words), which the
-- search query uses by repeating the same expression.

create index messages_search on messages using gin (to_tsvector('simple', body));

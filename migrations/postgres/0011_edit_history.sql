-- A message's earlier bodies: each edit keeps the body it replaced, dated by that edit,
-- so members can see how a message changed. Deleting the message removes them with its
-- body (a delete is a redaction).

create table message_edits (
    message_id uuid not null references messages (id) on delete cascade,
    seq bigint not null,           -- the seq of the edit's event (orders the history)
    replaced_at bigint not null,   -- when that edit replaced this body
    body text not null,
    primary key (message_id, seq)
);

-- The readiness write probe (store/src/write_health.rs): a row of more than a page is
-- inserted and deleted in one committed transaction, so the probe writes the way a send
-- does and fails the way a send would (disk full, read-only, I/O error). Always empty
-- between probes. Stored uncompressed, so the bytes written are the bytes asked for.
create table write_probe (
    filler bytea not null
);
alter table write_probe alter column filler set storage external;

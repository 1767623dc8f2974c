-- The readiness write probe (store/src/write_health.rs): a row of more than a page is
-- inserted and deleted in one committed transaction, so the probe takes pages the way a
-- send does and fails the way a send would (disk full, read-only, I/O error). Always empty
-- between probes.
create table write_probe (
    filler blob not null
);

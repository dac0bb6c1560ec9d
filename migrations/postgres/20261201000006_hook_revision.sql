-- PostgreSQL twin of ../sqlite/20261201000006: every hook write adds one to
-- the hook's revision, so a process about to send with its in-memory copy
-- of a hook can confirm, in one indexed read, that the copy is still current.
ALTER TABLE hooks ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;

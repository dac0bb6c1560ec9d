-- Several processes (issue 12): every hook write adds one to the hook's
-- revision, so a process about to send with its in-memory copy of a hook
-- can confirm, in one indexed read, that the copy is still current.
ALTER TABLE hooks ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- Ordered delivery (issue 15): a hook may take its deliveries one at a
-- time, in publish order. Publish order is the deliveries' rowid (SQLite
-- gives each new row one above the largest, so it follows insert order;
-- PostgreSQL's twin has the identity column `seq`). A claim takes an
-- ordered hook's delivery only when no earlier one of that hook is
-- pending: this index answers that from the pending rows alone (the rowid
-- is the last key of every SQLite index).
ALTER TABLE hooks ADD COLUMN ordered BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX deliveries_pending_by_hook ON deliveries(hook_id) WHERE status = 'pending';

-- Per-hook delivery options (issue 15): headers sent with every delivery
-- (a JSON object, NULL for none), secret headers sealed with the at-rest
-- key as one JSON object, bound to the hook and field like every secret,
-- with their names in the clear so a hook can be shown masked without
-- opening it, a per-hook attempt timeout (NULL: the server's), and the
-- hook's pace: deliveries per second and attempts at once (NULL: no limit).
ALTER TABLE hooks ADD COLUMN headers TEXT;
ALTER TABLE hooks ADD COLUMN secret_headers_enc BLOB;
ALTER TABLE hooks ADD COLUMN secret_header_names TEXT;
ALTER TABLE hooks ADD COLUMN timeout_seconds INTEGER;
ALTER TABLE hooks ADD COLUMN rate_limit INTEGER;
ALTER TABLE hooks ADD COLUMN max_in_flight INTEGER;

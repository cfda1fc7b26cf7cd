-- The audit chain on the hot path: every tool-call check appends a row.
--
-- 0002 locked and updated the one-row chain head for every row. Under
-- concurrent writers that row's old versions cannot be pruned while others
-- wait, the table bloats to hundreds of pages, and every lock of it becomes a
-- scan of them all (per-row cost grew from ~0.2 ms to ~1 ms in a few minutes
-- of load). Now appends serialise on a transaction-scoped advisory lock and
-- read the previous hash from the log's own tail (one primary-key probe); the
-- head moves once per INSERT statement, so a batch of rows costs one update.
-- Rows still chain in commit order, ids still follow the chain, and the head
-- still names the newest row for VerifyAuditLog's missing-tail check.

-- Its body uses casts that are STABLE, so an IMMUTABLE declaration kept the
-- planner from inlining it: every call ran the SQL-function executor (~3x
-- slower). The result is the same function of its arguments.
ALTER FUNCTION audit_log_hash(text, bigint, timestamptz, text, text, text,
                              text, text, text, text, text, jsonb) STABLE;

CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  prev text;
BEGIN
  -- A repeatable-read snapshot could predate the tail it must link to.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'audit_log rows are appended in READ COMMITTED '
                    'transactions only (this one is %)',
                    current_setting('transaction_isolation')
      USING ERRCODE = 'feature_not_supported';
  END IF;
  -- Held until commit: the next writer waits, then (a new statement, a new
  -- snapshot) reads this transaction's last row as its predecessor. The key
  -- spells "mcpaudit"; 0x6d6370726567 ("mcpreg") is the migration lock.
  PERFORM pg_advisory_xact_lock(7882267336712153460);
  SELECT row_hash INTO prev FROM audit_log ORDER BY id DESC LIMIT 1;
  NEW.id := nextval('audit_log_id_seq'::regclass);
  NEW.at := clock_timestamp();
  NEW.prev_hash := coalesce(prev, '');
  NEW.row_hash := audit_log_hash(NEW.prev_hash, NEW.id, NEW.at, NEW.actor,
                                 NEW.action, NEW.project_key, NEW.server,
                                 NEW.tool, NEW.decision, NEW.reason,
                                 NEW.request_id, NEW.details);
  RETURN NEW;
END
$$;

-- Once per statement, with the advisory lock still held.
CREATE FUNCTION audit_chain_advance() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE audit_chain_head
     SET last_id = newest.id, last_hash = newest.row_hash
    FROM (SELECT id, row_hash FROM appended ORDER BY id DESC LIMIT 1) newest;
  RETURN NULL;
END
$$;
CREATE TRIGGER audit_chain_advance AFTER INSERT ON audit_log
  REFERENCING NEW TABLE AS appended
  FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_advance();

-- Emptying the head would hide a removed tail as well as changing it would.
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_guard();

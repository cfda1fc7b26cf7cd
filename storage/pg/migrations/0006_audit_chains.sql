-- Independent audit chains: no global lock on the hot path (issue 22).
--
-- Up to 0005 every audited write, on every replica, took one advisory lock
-- and held it through its commit's WAL flush: appends were serialised in
-- commit order, and the whole fleet committed one audit transaction at a
-- time. Now the log is 64 chains. A transaction's first audit row takes a
-- chain nobody holds (trying the one its backend's pid points at, then the
-- next ones), and every row it writes links to that chain's previous row.
-- Writers on different chains never wait for each other; with fewer than
-- 64 audit transactions in flight at once, nobody waits at all.
--
-- What stays: every row is chained; ids still follow each chain's order
-- (drawn under the chain's lock); rows append only in READ COMMITTED; the
-- heads are one row per chain (audit_chains), moved once per INSERT
-- statement and only by it. What anchors the chains: their number is
-- fixed, a head row can be neither deleted nor changed except by an
-- insert, and each chain starts from its own genesis value ('' for chain
-- 0, 'chain <n>' for the others), so emptying a chain, or passing one
-- chain's rows off as another's, breaks verification like deleting a row.
--
-- Migrating: the rows written so far are one chain in id order. They become
-- chain 0, unchanged (their hashes do not cover the chain, so they verify
-- exactly as before), and the old head becomes chain 0's head.

-- Replicas of the previous build may still be appending while this runs
-- (a rolling upgrade): hold them off until it commits, so that the head
-- read below is the log's last. They stop serving once it has (their
-- health probe expects the schema version they know).
LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE audit_chains (
  chain      smallint PRIMARY KEY CHECK (chain BETWEEN 0 AND 63),
  last_id    bigint NOT NULL,
  last_hash  text NOT NULL
);
INSERT INTO audit_chains (chain, last_id, last_hash)
  SELECT 0, last_id, last_hash FROM audit_chain_head;
INSERT INTO audit_chains (chain, last_id, last_hash)
  SELECT c, 0, 'chain ' || c FROM generate_series(1, 63) AS c;

-- A constant default: no table rewrite, and the existing rows are chain 0.
ALTER TABLE audit_log ADD COLUMN chain smallint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  held text := current_setting('mcpreg.audit_chain', true);
  start int;
  c int;
  prev text;
BEGIN
  -- A repeatable-read snapshot could predate the head it must link to.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'audit_log rows are appended in READ COMMITTED '
                    'transactions only (this one is %)',
                    current_setting('transaction_isolation')
      USING ERRCODE = 'feature_not_supported';
  END IF;
  IF held IS NULL OR held = '' THEN
    -- This transaction's first row: take a chain, held until commit. The
    -- first key spells "mcha"; 0003's single-key lock is another key space.
    start := pg_backend_pid() % 64;
    FOR i IN 0..63 LOOP
      IF pg_try_advisory_xact_lock(1835231329, (start + i) % 64) THEN
        c := (start + i) % 64;
        EXIT;
      END IF;
    END LOOP;
    IF c IS NULL THEN
      -- 64 transactions hold one each: queue on ours (bounded by the
      -- statement timeout). Every audit row is its transaction's last
      -- statement, so no holder waits for anything but its commit.
      c := start;
      PERFORM pg_advisory_xact_lock(1835231329, c);
    END IF;
    -- A new statement, a new snapshot: the last holder's commit is in it.
    SELECT last_hash INTO prev FROM audit_chains WHERE chain = c;
  ELSE
    -- A later row of the same transaction: the chain it holds, after the
    -- row before (set below; transaction-local, so it dies with the
    -- transaction or the savepoint that wrote it). A value this transaction
    -- did not write (set by hand, for the session) names another
    -- transaction: refused rather than trusted.
    IF split_part(held, ':', 1) <> txid_current()::text THEN
      RAISE EXCEPTION 'mcpreg.audit_chain was set outside an audit append'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    c := split_part(held, ':', 2)::int;
    prev := current_setting('mcpreg.audit_prev');
  END IF;
  NEW.chain := c;
  NEW.id := nextval('audit_log_id_seq'::regclass);
  NEW.at := clock_timestamp();
  NEW.prev_hash := prev;
  NEW.row_hash := audit_log_hash(NEW.prev_hash, NEW.id, NEW.at, NEW.actor,
                                 NEW.action, NEW.project_key, NEW.server,
                                 NEW.tool, NEW.decision, NEW.reason,
                                 NEW.request_id, NEW.details);
  PERFORM set_config('mcpreg.audit_chain', txid_current() || ':' || c, true),
          set_config('mcpreg.audit_prev', NEW.row_hash, true);
  RETURN NEW;
END
$$;

-- Once per statement, with the chain's lock still held.
CREATE OR REPLACE FUNCTION audit_chain_advance() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE audit_chains h
     SET last_id = newest.id, last_hash = newest.row_hash
    FROM (SELECT chain, id, row_hash FROM appended
          ORDER BY id DESC LIMIT 1) newest
   WHERE h.chain = newest.chain;
  RETURN NULL;
END
$$;

-- The heads move only with an insert, and are never removed.
CREATE FUNCTION audit_chains_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' OR pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'audit_chains moves only with audit_log inserts'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER audit_chains_guard BEFORE INSERT OR UPDATE OR DELETE
  ON audit_chains FOR EACH ROW EXECUTE FUNCTION audit_chains_guard();
CREATE TRIGGER audit_chains_no_truncate BEFORE TRUNCATE ON audit_chains
  FOR EACH STATEMENT EXECUTE FUNCTION audit_chains_guard();

DROP TABLE audit_chain_head;
DROP FUNCTION audit_chain_head_guard();

-- Tool policies get a revision, unique across all of them and never
-- reused: a check decided on a cached policy is written to the audit log
-- only if that policy is still in force when its row is (audit_store.cc),
-- so no replica allows a call under a policy another replica has already
-- replaced and acknowledged.
CREATE SEQUENCE tool_policy_revisions;
ALTER TABLE tool_policies
  ADD COLUMN revision bigint NOT NULL DEFAULT nextval('tool_policy_revisions');

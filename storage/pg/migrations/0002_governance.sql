-- Governance: a tamper-evident audit log and search over servers.
--
-- Every audit row carries the SHA-256 of the previous row's hash and its own
-- content, so changing or removing a row breaks the chain from there on. The
-- chain's head (last id and hash) is one row that each insert locks: appends
-- are serialised in commit order, and ids follow the chain.

-- The hash of one row: every field length-prefixed, so no two different rows
-- share a preimage. The time enters as microseconds since the epoch, which
-- does not depend on the session's TimeZone.
CREATE FUNCTION audit_log_hash(prev text, id bigint, at timestamptz,
                               actor text, action text, project_key text,
                               server text, tool text, decision text,
                               reason text, request_id text, details jsonb)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(
    length(prev) || ':' || prev || '|' ||
    id::text || '|' ||
    (extract(epoch FROM at) * 1000000)::bigint::text || '|' ||
    length(actor) || ':' || actor || '|' ||
    length(action) || ':' || action || '|' ||
    length(project_key) || ':' || project_key || '|' ||
    length(server) || ':' || server || '|' ||
    length(tool) || ':' || tool || '|' ||
    length(decision) || ':' || decision || '|' ||
    length(reason) || ':' || reason || '|' ||
    length(request_id) || ':' || request_id || '|' ||
    details::text, 'UTF8')), 'hex')
$$;

CREATE TABLE audit_chain_head (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_id    bigint NOT NULL,
  last_hash  text NOT NULL
);

ALTER TABLE audit_log ADD COLUMN prev_hash text NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN row_hash text NOT NULL DEFAULT '';

-- Chain the rows written before this migration, in id order.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete;
DO $$
DECLARE
  r record;
  prev text := '';
  last bigint := 0;
BEGIN
  FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
    UPDATE audit_log
       SET prev_hash = prev,
           row_hash = audit_log_hash(prev, r.id, r.at, r.actor, r.action,
                                     r.project_key, r.server, r.tool,
                                     r.decision, r.reason, r.request_id,
                                     r.details)
     WHERE id = r.id
    RETURNING row_hash INTO prev;
    last := r.id;
  END LOOP;
  INSERT INTO audit_chain_head (last_id, last_hash) VALUES (last, prev);
END
$$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete;

CREATE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  prev text;
BEGIN
  -- Locks the head until commit: the next writer waits, then reads this
  -- row's hash (READ COMMITTED) or retries on a serialization failure.
  SELECT last_hash INTO prev FROM audit_chain_head FOR UPDATE;
  NEW.id := nextval(pg_get_serial_sequence('audit_log', 'id'));
  NEW.at := clock_timestamp();
  NEW.prev_hash := prev;
  NEW.row_hash := audit_log_hash(prev, NEW.id, NEW.at, NEW.actor, NEW.action,
                                 NEW.project_key, NEW.server, NEW.tool,
                                 NEW.decision, NEW.reason, NEW.request_id,
                                 NEW.details);
  UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.row_hash;
  RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

-- The head moves only with an insert.
CREATE FUNCTION audit_chain_head_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' OR pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'audit_chain_head moves only with audit_log inserts'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER audit_chain_head_guard BEFORE UPDATE OR DELETE ON audit_chain_head
  FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard();

CREATE INDEX audit_log_project_id ON audit_log (project_key, id);

-- Case-insensitive search over name, display name and description.
CREATE INDEX servers_project_name ON servers (project_key, lower(name));

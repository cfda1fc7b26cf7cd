-- Tool-definition pinning (docs/policies.md#pinned-tool-definitions).
--
-- Guards report the tools/list entries a server version shows; each distinct
-- definition of a tool is recorded once per server with its canonical JSON
-- (text, not jsonb: jsonb would reorder it and drop the form the digest
-- covers) and the version it was first seen in. Approvals name a definition
-- by digest. Everything goes with its server.

ALTER TABLE tool_policies
  ADD COLUMN pin_definitions boolean NOT NULL DEFAULT false,
  ADD COLUMN trust_on_first_use boolean NOT NULL DEFAULT false,
  ADD COLUMN audit_argument_values boolean NOT NULL DEFAULT false;

CREATE TABLE tool_definitions (
  id               bigserial PRIMARY KEY,
  server_id        bigint NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  tool             text NOT NULL,
  digest           text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
  definition       text NOT NULL,
  first_version    text NOT NULL,
  first_seen_at    timestamptz NOT NULL DEFAULT now(),
  first_seen_by    text NOT NULL,
  -- The tool's newest definition before this one ('' for its first).
  previous_digest  text NOT NULL DEFAULT '',
  UNIQUE (server_id, tool, digest)
);

-- Which definitions each version showed: "approve what version X shows".
CREATE TABLE tool_definition_sightings (
  server_id  bigint NOT NULL,
  version    text NOT NULL,
  tool       text NOT NULL,
  digest     text NOT NULL,
  PRIMARY KEY (server_id, version, tool, digest),
  FOREIGN KEY (server_id, version)
    REFERENCES server_versions (server_id, version) ON DELETE CASCADE,
  FOREIGN KEY (server_id, tool, digest)
    REFERENCES tool_definitions (server_id, tool, digest) ON DELETE CASCADE
);

-- A revoked approval stays, revoked: trust on first use approves only a
-- tool that never had an approval, so revoking one does not bring it back.
CREATE TABLE tool_definition_approvals (
  server_id    bigint NOT NULL,
  tool         text NOT NULL,
  digest       text NOT NULL,
  approved_by  text NOT NULL,
  approved_at  timestamptz NOT NULL DEFAULT now(),
  revoked_by   text NOT NULL DEFAULT '',
  revoked_at   timestamptz,
  PRIMARY KEY (server_id, tool, digest),
  FOREIGN KEY (server_id, tool, digest)
    REFERENCES tool_definitions (server_id, tool, digest) ON DELETE CASCADE
);

-- Principals, access tokens and grants (built-in authz); repositories' servers
-- and their versions; tool policies; the append-only audit log.

CREATE TABLE principals (
  name        text PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Only the SHA-256 of a token is kept; the token itself is shown once.
CREATE TABLE access_tokens (
  id            bigserial PRIMARY KEY,
  token_sha256  text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
  principal     text NOT NULL REFERENCES principals (name) ON DELETE CASCADE,
  description   text NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL DEFAULT now(),
  created_by    text NOT NULL DEFAULT '',
  expires_at    timestamptz,
  revoked_at    timestamptz
);

-- ALLOW on a project's AI catalog (resource = project key), READ on a
-- repository (resource = repository key), ADMIN (resource = '').
CREATE TABLE grants (
  principal   text NOT NULL REFERENCES principals (name) ON DELETE CASCADE,
  permission  text NOT NULL CHECK (permission IN ('ALLOW', 'READ', 'ADMIN')),
  resource    text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text NOT NULL DEFAULT '',
  PRIMARY KEY (principal, permission, resource),
  CHECK ((permission = 'ADMIN') = (resource = ''))
);

CREATE TABLE servers (
  id              bigserial PRIMARY KEY,
  project_key     text NOT NULL,
  name            text NOT NULL,
  display_name    text NOT NULL,
  repo_key        text NOT NULL,
  package_type    text NOT NULL CHECK (package_type IN ('npm', 'pypi')),
  latest_version  text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  created_by      text NOT NULL,
  -- Uniqueness lives here, not in read-then-write code.
  UNIQUE (project_key, name),
  UNIQUE (project_key, display_name)
);

CREATE TABLE server_versions (
  server_id              bigint NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  version                text NOT NULL,
  repo_key               text NOT NULL,
  repo_path              text NOT NULL,
  readme_path            text NOT NULL DEFAULT '',
  artifact_sha256        text NOT NULL,
  artifact_size          bigint NOT NULL,
  description            text NOT NULL,
  environment_variables  jsonb NOT NULL DEFAULT '[]',
  runtime_arguments      jsonb NOT NULL DEFAULT '[]',
  created_at             timestamptz NOT NULL DEFAULT now(),
  created_by             text NOT NULL,
  PRIMARY KEY (server_id, version)
);

CREATE TABLE tool_policies (
  server_id   bigint PRIMARY KEY REFERENCES servers (id) ON DELETE CASCADE,
  mode        text NOT NULL,
  entries     jsonb NOT NULL DEFAULT '[]',
  updated_at  timestamptz NOT NULL DEFAULT now(),
  updated_by  text NOT NULL
);

CREATE TABLE audit_log (
  id           bigserial PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor        text NOT NULL,
  action       text NOT NULL,
  project_key  text NOT NULL DEFAULT '',
  server       text NOT NULL DEFAULT '',
  tool         text NOT NULL DEFAULT '',
  decision     text NOT NULL CHECK (decision IN ('ALLOW', 'DENY', 'ERROR')),
  reason       text NOT NULL DEFAULT '',
  request_id   text NOT NULL DEFAULT '',
  details      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_server ON audit_log (project_key, server, id);

-- Append-only: the database itself refuses to change or remove a row.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update_delete
  BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate
  BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

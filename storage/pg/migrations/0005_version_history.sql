-- A server's history must not cost its every call. 0001 left versions to be
-- counted and ordered by reading them all: registering a version of a
-- server with thousands read and returned thousands. Now each version has
-- its place in registration order (seq: 1, 2, ... per server, assigned
-- under the server row's lock) and the server keeps its count, so
-- registering, reading the latest version and paging through the others
-- each touch a bounded number of rows. The latest version's description
-- (the server's) is kept with the server too, so reading a server never
-- needs a second version.
ALTER TABLE servers ADD COLUMN version_count integer NOT NULL DEFAULT 0;
ALTER TABLE servers ADD COLUMN description text NOT NULL DEFAULT '';
ALTER TABLE server_versions ADD COLUMN seq integer;

UPDATE server_versions v
   SET seq = ordered.seq
  FROM (SELECT server_id, version,
               row_number() OVER (PARTITION BY server_id
                                  ORDER BY created_at, version) AS seq
          FROM server_versions) ordered
 WHERE v.server_id = ordered.server_id AND v.version = ordered.version;
UPDATE servers s
   SET version_count = (SELECT count(*) FROM server_versions v
                         WHERE v.server_id = s.id),
       description = coalesce((SELECT v.description FROM server_versions v
                                WHERE v.server_id = s.id
                                  AND v.version = s.latest_version), '');

ALTER TABLE server_versions ALTER COLUMN seq SET NOT NULL;
ALTER TABLE server_versions ADD CONSTRAINT server_versions_seq_unique
  UNIQUE (server_id, seq);

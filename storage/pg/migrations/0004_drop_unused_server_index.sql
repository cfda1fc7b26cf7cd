-- servers_project_name (project_key, lower(name)) served no query: lookups
-- by name use the unique (project_key, name) and (project_key, display_name)
-- indexes, listing orders by name through the first, and search is a
-- substring match no index helps. It cost an index entry per registration,
-- and on a new, still small table the planner preferred it for lookups by
-- name — matching project_key only and filtering every server of the
-- project — and kept that plan cached as the table grew.
DROP INDEX IF EXISTS servers_project_name;

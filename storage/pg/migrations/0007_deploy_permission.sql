-- DEPLOY on a repository (resource = repository key): publishing packages
-- into it through the npm and PyPI endpoints (docs/repositories.md). ADMIN
-- implies it, as it implies READ.
ALTER TABLE grants DROP CONSTRAINT grants_permission_check;
ALTER TABLE grants ADD CONSTRAINT grants_permission_check
  CHECK (permission IN ('ALLOW', 'READ', 'ADMIN', 'DEPLOY'));

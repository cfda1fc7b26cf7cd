#include "plugin/src/registry_runtime.h"

#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "authz/access_token.h"
#include "authz/builtin_authorizer.h"
#include "authz/host_authorizer.h"
#include "plugin/src/packages/digests.h"
#include "plugin/src/packages/package_layout.h"
#include "storage/error_detail.h"
#include "storage/pg/access_store.h"
#include "storage/pg/migrations.h"
#include "storage/pg/pg_audit_log.h"
#include "storage/pg/pg_status.h"
#include "storage/pg/policy_store.h"
#include "storage/pg/server_store.h"
#include "storage/pg/statements.h"
#include "storage/pg/tool_definition_store.h"
#include "storage/repo/host_repository_store.h"
#include "storage/repo/sample_packages.h"

namespace mcpreg {
namespace {

// Writes the first admin token where only the operator can read it, once:
// O_EXCL refuses to overwrite a token file nobody collected.
absl::Status WriteTokenFile(const std::string& path, const std::string& token) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("bootstrap.adminTokenFile: cannot create ", path,
                     " (it must not exist yet): ", strerror(errno)));
  }
  const std::string line = token + "\n";
  const bool ok =
      write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  close(fd);
  if (!ok) return absl::InternalError("bootstrap: could not write the token");
  return absl::OkStatus();
}

absl::Status Bootstrap(RegistryDependencies& s,
                       const config::v1::BootstrapConfig& config,
                       absl::Time deadline) {
  if (config.admin_token_file().empty()) return absl::OkStatus();
  auto any = s.access->AnyPrincipal(deadline);
  if (!any.ok()) return any.status();
  if (*any) return absl::OkStatus();  // bootstrapped before
  const std::string admin =
      config.admin_principal().empty() ? "admin" : config.admin_principal();
  auto token = authz::GenerateAccessToken();
  if (!token.ok()) return token.status();
  storage::AuditEvent audit;
  audit.actor = "bootstrap";
  audit.action = "bootstrap";
  audit.decision = "ALLOW";
  audit.reason = absl::StrCat("first admin principal '", admin, "'");
  // The file first: a token nobody can collect would lock the operator out.
  if (absl::Status st = WriteTokenFile(config.admin_token_file(), *token);
      !st.ok()) {
    return st;
  }
  // Principal, grant and token together: all of them or none, so a failed
  // start leaves no principal behind and the next one bootstraps again
  // (after removing the file it wrote, which holds a token nobody stored).
  if (absl::Status st = s.access->BootstrapAdmin(
          admin, authz::TokenSha256Hex(*token), audit, deadline);
      !st.ok()) {
    unlink(config.admin_token_file().c_str());
    return st;
  }
  s.log.Info(absl::StrCat("bootstrapped principal '", admin,
                          "' with the ADMIN role; its token is in ",
                          config.admin_token_file()));
  return absl::OkStatus();
}

// The brief's two example registrations must work as written.
absl::Status SeedQuickstart(RegistryDependencies& s) {
  // Anonymous reads on: the direct (npx/uvx) client configurations the
  // quickstart prints install without a token. Repositories created any
  // other way keep them off unless asked.
  const storage::RepositoryInfo repos[] = {
      {"ai-pypi-local", "pypi", "local", "ai-research", true},
      {"ai-npm-local", "npm", "local", "ai-research", true},
  };
  for (const auto& repo : repos) {
    absl::Status st = s.repositories->CreateRepository(repo);
    if (!st.ok() && st.code() != absl::StatusCode::kAlreadyExists) return st;
  }
  struct Sample {
    const char* repo;
    std::string path;
    std::string bytes;
  };
  const std::string npm_sample = storage::BuildNpmTarball(
      "simple-mcp", "1.0.0", "Example MCP server for the mcpreg quickstart");
  const std::string pypi_sample = storage::BuildSdist(
      "mcp-server", "1.0.0", "Example MCP server for the mcpreg quickstart");
  const Sample samples[] = {
      // Also where the npm and PyPI endpoints serve them from, as if
      // published with npm and twine (docs/repositories.md).
      {"ai-npm-local", packages::NpmTarballPath("simple-mcp", "1.0.0"),
       npm_sample},
      {"ai-npm-local", packages::NpmManifestPath("simple-mcp", "1.0.0"),
       absl::StrCat(
           R"({"name":"simple-mcp","version":"1.0.0","description":)",
           R"("Example MCP server for the mcpreg quickstart","license":"MIT",)",
           R"("bin":{"simple-mcp":"index.js"},"dist":{"shasum":")",
           packages::Sha1Hex(npm_sample), R"(","integrity":")",
           packages::Sha512Integrity(npm_sample), R"("}})")},
      {"ai-pypi-local",
       packages::PypiPath("mcp-server", "1.0.0", "mcp_server-1.0.0.tar.gz"),
       pypi_sample},
      {"ai-pypi-local", "org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz",
       pypi_sample},
      {"ai-pypi-local", "org/project/mcp-server/1.0.0/README.md",
       "# mcp-server\n\nExample MCP server (PyPI sdist) for the quickstart.\n"},
      {"ai-npm-local", "org/project/simple-mcp/1.0.0/simple-mcp-1.0.0.tgz",
       npm_sample},
      {"ai-npm-local", "org/project/simple-mcp/1.0.0/README.md",
       "# simple-mcp\n\nExample MCP server (npm) for the quickstart.\n"},
  };
  for (const Sample& sample : samples) {
    if (s.repositories
            ->StatArtifact(sample.repo, sample.path, s.max_artifact_bytes,
                           storage::CallDeadline())
            .ok()) {
      continue;
    }
    if (absl::Status st = s.repositories->WriteArtifact(
            sample.repo, sample.path, sample.bytes);
        !st.ok()) {
      return st;
    }
  }
  s.log.Info(
      "quickstart data ready: project ai-research, repositories "
      "ai-pypi-local and ai-npm-local, sample packages");
  return absl::OkStatus();
}

// Logs each change once: a probe's verdict repeated every 250 ms is noise.
absl::Status StartHealthProbe(RegistryRuntime& r, const std::string& conninfo) {
  storage::pg::HealthProbeOptions options;
  options.conninfo = conninfo;
  options.expected_schema_version = storage::pg::KnownSchemaVersion();
  options.on_change = [log = r.deps.log](bool serving,
                                         const std::string& reason) {
    if (serving) {
      log.Info(absl::StrCat("health: SERVING (", reason, ")"));
    } else {
      log.Warning(absl::StrCat("health: NOT_SERVING (", reason, ")"));
    }
  };
  auto probe = storage::pg::HealthProbe::Start(std::move(options));
  if (!probe.ok()) return probe.status();
  r.health = std::move(*probe);
  return absl::OkStatus();
}

// Start-up failures go to the operator (the host's stderr): the database's
// own words with them.
constexpr int kConnectTimeoutSeconds = 5;

absl::Status Prefixed(const absl::Status& s, absl::string_view prefix) {
  const std::string detail = storage::ErrorDetail(s);
  return absl::Status(
      s.code(), absl::StrCat(prefix, s.message(), detail.empty() ? "" : " (",
                             detail, detail.empty() ? "" : ")"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RegistryRuntime>> OpenRegistryRuntime(
    const mcpreg_host_api* host, const config::v1::PluginConfig& config) {
  auto r = std::make_unique<RegistryRuntime>(host);
  RegistryDependencies* s = &r->deps;
  const auto& db = config.database();
  const absl::Time deadline =
      absl::Now() + absl::Milliseconds(db.startup_timeout_ms() == 0
                                           ? 30000
                                           : db.startup_timeout_ms());
  if (config.max_artifact_bytes() != 0) {
    s->max_artifact_bytes = config.max_artifact_bytes();
  }

  storage::pg::PoolOptions pool;
  // libpq would wait for an unreachable database for ever.
  const std::string conninfo =
      storage::pg::WithConnectTimeout(db.conninfo(), kConnectTimeoutSeconds);
  pool.conninfo = conninfo;
  pool.max_connections = db.max_connections() == 0 ? 16 : db.max_connections();
  pool.statement_timeout = kLongestCall;
  pool.on_connect = &storage::pg::PrepareAll;
  r->pool = std::make_unique<storage::pg::ConnectionPool>(pool);
  r->canceller = std::make_unique<storage::pg::StatementCanceller>();
  absl::StatusOr<int> version = storage::pg::Migrate(*r->pool, deadline);
  if (!version.ok()) return Prefixed(version.status(), "database: ");
  s->log.Info(absl::StrCat("database schema at version ", *version));
  if (absl::Status st = StartHealthProbe(*r, db.conninfo()); !st.ok()) {
    return st;
  }
  s->servers = std::make_unique<storage::pg::PgServerStore>(*r->pool);
  s->access = std::make_unique<storage::pg::PgAccessStore>(*r->pool);
  s->package_base_url = config.package_base_url();
  s->registry_address = config.registry_address();
  s->registry_tls = config.registry_tls();
  s->registry_ca_file = config.registry_ca_file();
  s->guard_command = config.guard_command();
  s->policies = std::make_unique<storage::pg::PgPolicyStore>(*r->pool);
  s->policy_cache = std::make_unique<PolicyCache>(*s->policies);
  s->definitions =
      std::make_unique<storage::pg::PgToolDefinitionStore>(*r->pool);
  PolicyCache* cache = s->policy_cache.get();
  r->policy_listener = std::make_unique<storage::pg::NotificationListener>(
      conninfo, storage::pg::kPolicyChannel,
      [cache](const std::string& payload) {
        cache->InvalidatePayload(payload);
      },
      [cache](bool listening) { cache->Reset(listening); });
  s->audit = std::make_unique<storage::pg::PgAuditLog>(*r->pool);

  if (authz::HostHasAuthorizer(host)) {
    s->authorizer = std::make_unique<authz::HostAuthorizer>(host);
    s->log.Info("permissions: the host's access service");
  } else {
    s->access_cache = std::make_unique<authz::AccessCache>();
    authz::AccessCache* access_cache = s->access_cache.get();
    r->access_listener = std::make_unique<storage::pg::NotificationListener>(
        conninfo, storage::pg::kAccessChannel,
        [access_cache](const std::string&) { access_cache->Reset(true); },
        [access_cache](bool listening) { access_cache->Reset(listening); });
    s->authorizer =
        std::make_unique<authz::BuiltinAuthorizer>(*s->access, access_cache);
  }
  if (storage::HostHasStorage(host)) {
    s->repositories = storage::NewHostRepositoryStore(host);
    s->log.Info("artifacts: the host's storage");
  } else {
    if (config.storage_root().empty()) {
      return absl::InvalidArgumentError(
          "plugin config: storageRoot is required (the folder holding the "
          "repositories) unless the host supplies storage callbacks");
    }
    auto fs = storage::NewFilesystemRepositoryStore(config.storage_root());
    if (!fs.ok()) return Prefixed(fs.status(), "storageRoot: ");
    s->repositories = std::move(*fs);
    r->package_endpoints = !authz::HostHasAuthorizer(host);
  }

  AnonymousLimits limits;
  const auto& anonymous = config.anonymous_limits();
  if (anonymous.rate_per_second() > 0) {
    limits.rate_per_second = anonymous.rate_per_second();
  }
  if (anonymous.burst() > 0) limits.burst = anonymous.burst();
  if (anonymous.audit_window_ms() > 0) {
    limits.audit_window = absl::Milliseconds(anonymous.audit_window_ms());
  }
  s->anonymous = std::make_unique<AnonymousLimiter>(*s->audit, s->log, limits);

  if (absl::Status st = Bootstrap(*s, config.bootstrap(), deadline); !st.ok()) {
    return st;
  }
  if (config.quickstart()) {
    if (absl::Status st = SeedQuickstart(*s); !st.ok()) {
      return Prefixed(st, "quickstart: ");
    }
  }
  // The first health check already tells the truth; a database that went
  // away since migrating makes it NOT_SERVING, not a failed start.
  r->health->WaitForFirstVerdict(absl::Seconds(2));
  return r;
}

}  // namespace mcpreg

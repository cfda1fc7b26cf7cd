#include "server_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "policy_store.h"
#include "transaction.h"

namespace mcpreg::storage::pg {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kInsertNewServer[] = "server_insert_new";
constexpr char kLockServer[] = "server_lock";
constexpr char kInsertVersion[] = "server_version_insert";
constexpr char kCompareVersion[] = "server_version_compare";
constexpr char kSetLatest[] = "server_set_latest";
constexpr char kFindServer[] = "server_find";
constexpr char kServerById[] = "server_by_id";
constexpr char kVersionsOf[] = "server_versions_of";
constexpr char kCountVersions[] = "server_count_versions";
constexpr char kDeleteServer[] = "server_delete";
constexpr char kRepositoriesOf[] = "server_repositories_of";
constexpr char kListServers[] = "server_list";

// Columns of a server row, in the order ServerFromRow reads them.
#define MCPREG_SERVER_COLUMNS                                 \
  "s.id, s.project_key, s.name, s.display_name, s.repo_key, " \
  "s.package_type, s.latest_version, "                        \
  "(extract(epoch FROM s.created_at) * 1000000)::bigint, "    \
  "(extract(epoch FROM s.updated_at) * 1000000)::bigint, s.created_by "
// Columns of a version row, in the order VersionFromRow reads them.
#define MCPREG_VERSION_COLUMNS                                             \
  "v.version, v.repo_key, v.repo_path, v.readme_path, v.artifact_sha256, " \
  "v.artifact_size, v.description, v.environment_variables::text, "        \
  "v.runtime_arguments::text, "                                            \
  "(extract(epoch FROM v.created_at) * 1000000)::bigint, v.created_by "

template <typename Message>
std::string JsonArray(const std::vector<Message>& items) {
  std::vector<std::string> parts;
  for (const Message& m : items) {
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(m, &json);
    parts.push_back(std::move(json));
  }
  return absl::StrCat("[", absl::StrJoin(parts, ","), "]");
}

// The jsonb arrays written by JsonArray, read back into a server info.
void ReadMetadata(const std::string& env_json, const std::string& args_json,
                  v1::ServerVersion& out) {
  // protobuf's JSON parser rebuilds type information on every call (tens of
  // µs); a version without variables or arguments, the common case, needs
  // none of it.
  if (env_json == "[]" && args_json == "[]") return;
  v1::McpServerInfo info;
  google::protobuf::util::JsonParseOptions lenient;
  lenient.ignore_unknown_fields = true;
  (void)google::protobuf::util::JsonStringToMessage(
      absl::StrCat("{\"environmentVariables\":", env_json,
                   ",\"runtimeArguments\":", args_json, "}"),
      &info, lenient);
  *out.mutable_environment_variables() = info.environment_variables();
  *out.mutable_runtime_arguments() = info.runtime_arguments();
}

int64_t ServerFromRow(const pqxx::row& r, v1::Server& s) {
  s.set_project_key(r[1].as<std::string>());
  s.set_name(r[2].as<std::string>());
  s.set_display_name(r[3].as<std::string>());
  s.set_repo_key(r[4].as<std::string>());
  s.set_package_type(r[5].as<std::string>());
  s.set_latest_version(r[6].as<std::string>());
  *s.mutable_created_at() =
      TimeUtil::MicrosecondsToTimestamp(r[7].as<int64_t>());
  *s.mutable_updated_at() =
      TimeUtil::MicrosecondsToTimestamp(r[8].as<int64_t>());
  s.set_created_by(r[9].as<std::string>());
  return r[0].as<int64_t>();
}

void VersionFromRow(const pqxx::row& r, int offset, v1::ServerVersion& v) {
  v.set_version(r[offset + 0].as<std::string>());
  auto* a = v.mutable_artifact();
  a->set_repo_key(r[offset + 1].as<std::string>());
  a->set_repo_path(r[offset + 2].as<std::string>());
  a->set_readme_path(r[offset + 3].as<std::string>());
  v.set_artifact_sha256(r[offset + 4].as<std::string>());
  v.set_artifact_size(r[offset + 5].as<uint64_t>());
  v.set_description(r[offset + 6].as<std::string>());
  ReadMetadata(r[offset + 7].as<std::string>(), r[offset + 8].as<std::string>(),
               v);
  *v.mutable_created_at() =
      TimeUtil::MicrosecondsToTimestamp(r[offset + 9].as<int64_t>());
  v.set_created_by(r[offset + 10].as<std::string>());
}

// A server's description is its latest version's.
void SetDescriptionFromLatest(v1::Server& server) {
  for (const auto& v : server.versions()) {
    if (v.version() == server.latest_version()) {
      server.set_description(v.description());
    }
  }
}

// Every version of server `id`, newest first, into `server`.
void ReadVersions(pqxx::transaction_base& txn, int64_t id, v1::Server& server) {
  for (const pqxx::row& r : txn.exec_prepared(kVersionsOf, id)) {
    VersionFromRow(r, 0, *server.add_versions());
  }
  SetDescriptionFromLatest(server);
}

}  // namespace

void PrepareServerStatements(pqxx::connection& c) {
  // A new server and its first version in one statement: one round trip.
  // No conflict target: racing inserts of one name collide on the name and
  // on the display name (which embeds it) at once, and a targeted ON
  // CONFLICT would raise the display-name violation as an error. A name
  // already taken inserts nothing at all and returns no row; Register then
  // adds the version to the existing server. (The version's foreign key is
  // checked at the statement's end, when the server row is there.)
  c.prepare(kInsertNewServer, R"sql(
    WITH s AS (
      INSERT INTO servers (project_key, name, display_name, repo_key,
                           package_type, latest_version, created_by)
      VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT DO NOTHING
      RETURNING *),
    v AS (
      INSERT INTO server_versions (server_id, version, repo_key, repo_path,
          readme_path, artifact_sha256, artifact_size, description,
          environment_variables, runtime_arguments, created_by)
      SELECT s.id, s.latest_version, s.repo_key, $8::text, $9::text,
             $10::text, $11::bigint, $12::text, $13::jsonb, $14::jsonb,
             s.created_by
      FROM s
      RETURNING *)
    SELECT )sql" MCPREG_SERVER_COLUMNS ", " MCPREG_VERSION_COLUMNS "FROM s, v");
  c.prepare(kLockServer, R"sql(
    SELECT id, repo_key, package_type FROM servers
    WHERE project_key = $1 AND name = $2 FOR UPDATE)sql");
  c.prepare(kInsertVersion, R"sql(
    INSERT INTO server_versions AS v (server_id, version, repo_key, repo_path,
        readme_path, artifact_sha256, artifact_size, description,
        environment_variables, runtime_arguments, created_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11)
    ON CONFLICT (server_id, version) DO NOTHING
    RETURNING )sql" MCPREG_VERSION_COLUMNS);
  c.prepare(kCompareVersion, R"sql(
    SELECT repo_path = $3 AND readme_path = $4 AND artifact_sha256 = $5
           AND description = $6 AND environment_variables = $7::jsonb
           AND runtime_arguments = $8::jsonb,
           repo_path
    FROM server_versions WHERE server_id = $1 AND version = $2)sql");
  c.prepare(kSetLatest, R"sql(
    UPDATE servers s SET latest_version = $2, updated_at = now()
    WHERE s.id = $1
    RETURNING )sql" MCPREG_SERVER_COLUMNS);
  c.prepare(kServerById,
            "SELECT " MCPREG_SERVER_COLUMNS "FROM servers s WHERE s.id = $1");
  c.prepare(kFindServer, "SELECT " MCPREG_SERVER_COLUMNS R"sql(
    FROM servers s
    WHERE s.project_key = $1 AND (s.name = $2 OR s.display_name = $2))sql");
  c.prepare(kVersionsOf, "SELECT " MCPREG_VERSION_COLUMNS R"sql(
    FROM server_versions v WHERE v.server_id = $1
    ORDER BY v.created_at DESC, v.version DESC)sql");
  c.prepare(kCountVersions,
            "SELECT count(*) FROM server_versions WHERE server_id = $1");
  c.prepare(kDeleteServer, "DELETE FROM servers WHERE id = $1");
  c.prepare(kRepositoriesOf, R"sql(
    SELECT DISTINCT repo_key FROM servers WHERE project_key = $1
    ORDER BY repo_key)sql");
  c.prepare(kListServers,
            "SELECT " MCPREG_SERVER_COLUMNS ", " MCPREG_VERSION_COLUMNS R"sql(
    FROM servers s
    JOIN server_versions v
      ON v.server_id = s.id AND v.version = s.latest_version
    WHERE s.project_key = $1
      AND s.repo_key IN (SELECT jsonb_array_elements_text($2::jsonb))
      AND s.name > $3
      AND ($5 = '' OR strpos(lower(s.name || ' ' || s.display_name || ' ' ||
                                   v.description), lower($5)) > 0)
    ORDER BY s.name
    LIMIT $4)sql");
}

absl::StatusOr<Registered> ServerStore::Register(const NewServerVersion& v,
                                                 const AuditEvent& audit,
                                                 absl::Time deadline) {
  const std::string env_json = JsonArray(v.environment_variables);
  const std::string args_json = JsonArray(v.runtime_arguments);
  TransactionOptions options;
  options.deadline = deadline;
  options.what = absl::StrCat("registering ", v.display_name);
  Registered out;
  absl::Status status = RunTransaction(pool_, options, [&](Transaction& txn) {
    out = Registered();
    pqxx::result inserted = txn.exec_prepared(
        kInsertNewServer, v.project_key, v.name, v.display_name, v.repo_key,
        v.package_type, v.version, v.actor, v.repo_path, v.readme_path,
        v.artifact_sha256, v.artifact_size, v.description, env_json, args_json);
    if (!inserted.empty()) {
      // The response is what the statement returned, read before the audit
      // row: that row takes the audit chain's lock, held until commit.
      ServerFromRow(inserted[0], out.server);
      VersionFromRow(inserted[0], 10, *out.server.add_versions());
      SetDescriptionFromLatest(out.server);
      AppendAudit(txn, audit);
      out.created = true;
      return absl::OkStatus();
    }
    // Someone registered this name first (perhaps a moment ago, on another
    // replica): lock their row and add to it if it is the same package.
    pqxx::result existing =
        txn.exec_prepared(kLockServer, v.project_key, v.name);
    if (existing.empty()) {
      return absl::AbortedError("server vanished while registering; retry");
    }
    const int64_t server_id = existing[0][0].as<int64_t>();
    const std::string repo = existing[0][1].as<std::string>();
    if (repo != v.repo_key) {
      return absl::AlreadyExistsError(absl::StrCat(
          "a server named '", v.name, "' is already registered in project '",
          v.project_key, "' from repository '", repo,
          "'; unregister it first or choose another name"));
    }
    pqxx::result added = txn.exec_prepared(
        kInsertVersion, server_id, v.version, v.repo_key, v.repo_path,
        v.readme_path, v.artifact_sha256, v.artifact_size, v.description,
        env_json, args_json, v.actor);
    if (added.empty()) {
      pqxx::result same = txn.exec_prepared(
          kCompareVersion, server_id, v.version, v.repo_path, v.readme_path,
          v.artifact_sha256, v.description, env_json, args_json);
      if (same.empty() || !same[0][0].as<bool>()) {
        return absl::AlreadyExistsError(
            absl::StrCat("version ", v.version, " of ", v.display_name,
                         " is already registered with a different artifact "
                         "or metadata (",
                         same.empty() ? "?" : same[0][1].as<std::string>(),
                         "); publish a new version instead"));
      }
      // An identical retry: nothing to write, the record as it stands.
      ServerFromRow(txn.exec_prepared(kServerById, server_id).at(0),
                    out.server);
      ReadVersions(txn, server_id, out.server);
      return absl::OkStatus();
    }
    ServerFromRow(txn.exec_prepared(kSetLatest, server_id, v.version).at(0),
                  out.server);
    ReadVersions(txn, server_id, out.server);
    AppendAudit(txn, audit);
    out.created = true;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<UnregisterResult> ServerStore::Unregister(
    const std::string& project_key, const std::string& name_or_display,
    AuditEvent audit, absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = absl::StrCat("unregistering ", name_or_display);
  UnregisterResult result;
  absl::Status status = RunTransaction(pool_, options, [&](Transaction& txn) {
    pqxx::result found =
        txn.exec_prepared(kFindServer, project_key, name_or_display);
    if (found.empty()) {
      return absl::NotFoundError(absl::StrCat("no server named '",
                                              name_or_display, "' in project '",
                                              project_key, "'"));
    }
    v1::Server server;
    const int64_t id = ServerFromRow(found[0], server);
    result.name = server.name();
    result.display_name = server.display_name();
    result.versions_removed = static_cast<uint32_t>(
        txn.exec_prepared(kCountVersions, id)[0][0].as<int64_t>());
    // Versions and policies go with it (ON DELETE CASCADE); replicas drop
    // the cached policy when this commits.
    txn.exec_prepared(kDeleteServer, id);
    NotifyPolicyChanged(txn, id);
    audit.server = server.display_name();
    AppendAudit(txn, audit);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<v1::Server> ServerStore::Get(const std::string& project_key,
                                            const std::string& name_or_display,
                                            absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = absl::StrCat("reading ", name_or_display);
  v1::Server server;
  absl::Status status =
      RunReadOnly(pool_, options, [&](pqxx::nontransaction& q) {
        server.Clear();
        pqxx::result found =
            q.exec_prepared(kFindServer, project_key, name_or_display);
        if (found.empty()) {
          return absl::NotFoundError(
              absl::StrCat("no server named '", name_or_display,
                           "' in project '", project_key, "'"));
        }
        const int64_t id = ServerFromRow(found[0], server);
        ReadVersions(q, id, server);
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return server;
}

absl::StatusOr<std::vector<std::string>> ServerStore::RepositoriesOf(
    const std::string& project_key, absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = "listing repositories";
  std::vector<std::string> repos;
  absl::Status status =
      RunReadOnly(pool_, options, [&](pqxx::nontransaction& q) {
        repos.clear();
        for (const pqxx::row& r :
             q.exec_prepared(kRepositoriesOf, project_key)) {
          repos.push_back(r[0].as<std::string>());
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return repos;
}

absl::StatusOr<ServerPage> ServerStore::List(
    const std::string& project_key, const std::vector<std::string>& repo_keys,
    const std::string& after_name, uint32_t page_size,
    const std::string& search, absl::Time deadline) {
  // Repository keys are validated names, but quote them as JSON anyway.
  std::vector<std::string> quoted;
  for (const std::string& k : repo_keys) {
    google::protobuf::Value value;
    value.set_string_value(k);
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(value, &json);
    quoted.push_back(json);
  }
  const std::string repos_json =
      absl::StrCat("[", absl::StrJoin(quoted, ","), "]");
  TransactionOptions options;
  options.deadline = deadline;
  options.what = "listing servers";
  ServerPage page;
  absl::Status status =
      RunReadOnly(pool_, options, [&](pqxx::nontransaction& q) {
        page = ServerPage();
        // One extra row says whether another page follows.
        pqxx::result rows =
            q.exec_prepared(kListServers, project_key, repos_json, after_name,
                            static_cast<int64_t>(page_size) + 1, search);
        for (size_t i = 0; i < rows.size() && i < page_size; ++i) {
          v1::Server& s = page.servers.emplace_back();
          ServerFromRow(rows[i], s);
          VersionFromRow(rows[i], 10, *s.add_versions());
          s.set_description(s.versions(0).description());
        }
        if (rows.size() > page_size && !page.servers.empty()) {
          page.last_name = page.servers.back().name();
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return page;
}

}  // namespace mcpreg::storage::pg

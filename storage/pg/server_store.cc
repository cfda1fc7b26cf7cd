#include "storage/pg/server_store.h"

#include <limits>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "storage/pg/policy_store.h"
#include "storage/pg/transaction.h"
#include "storage/repo/package_version.h"

namespace mcpreg::storage::pg {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kInsertNewServer[] = "server_insert_new";
constexpr char kLockServer[] = "server_lock";
constexpr char kInsertVersion[] = "server_version_insert";
constexpr char kCompareVersion[] = "server_version_compare";
constexpr char kRecordVersion[] = "server_record_version";
constexpr char kServerById[] = "server_by_id";
constexpr char kVersionOf[] = "server_version_of";
constexpr char kFindWithVersion[] = "server_find_with_version";
constexpr char kVersionsBefore[] = "server_versions_before";
constexpr char kDeleteServer[] = "server_delete";
constexpr char kRepositoriesOf[] = "server_repositories_of";
constexpr char kListServers[] = "server_list";

// Columns of a server row, in the order ServerFromRow reads them.
#define MCPREG_SERVER_COLUMNS                                            \
  "s.id, s.project_key, s.name, s.display_name, s.repo_key, "            \
  "s.package_type, s.latest_version, "                                   \
  "(extract(epoch FROM s.created_at) * 1000000)::bigint, "               \
  "(extract(epoch FROM s.updated_at) * 1000000)::bigint, s.created_by, " \
  "s.version_count, s.description "
// How many they are: where a version's columns start in a row that has both.
constexpr int kServerColumnCount = 12;
// Columns of a version row, in the order VersionFromRow reads them.
// (ListServers adds the policy's mode after them: kListPolicyModeColumn.)
#define MCPREG_VERSION_COLUMNS                                             \
  "v.version, v.repo_key, v.repo_path, v.readme_path, v.artifact_sha256, " \
  "v.artifact_size, v.description, v.environment_variables::text, "        \
  "v.runtime_arguments::text, "                                            \
  "(extract(epoch FROM v.created_at) * 1000000)::bigint, v.created_by, v.seq "

constexpr int kVersionColumnCount = 12;
constexpr int kListPolicyModeColumn = kServerColumnCount + kVersionColumnCount;

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
  s.set_version_count(r[10].as<uint32_t>());
  s.set_description(r[11].as<std::string>());
  return r[0].as<int64_t>();
}

// Returns the version's position in registration order (seq).
int64_t VersionFromRow(const pqxx::row& r, int offset, v1::ServerVersion& v) {
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
  return r[offset + 11].as<int64_t>();
}

// A server row followed by the columns of one of its versions, as
// kInsertNewServer and kFindWithVersion return them: the version is the
// server's only one in `out`. False when the row has no version (a LEFT
// JOIN that found none).
bool ServerWithVersionFromRow(const pqxx::row& r, v1::Server& out) {
  ServerFromRow(r, out);
  if (r[kServerColumnCount].is_null()) return false;
  VersionFromRow(r, kServerColumnCount, *out.add_versions());
  return true;
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
                           package_type, latest_version, created_by,
                           version_count, description)
      VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $12)
      ON CONFLICT DO NOTHING
      RETURNING *),
    v AS (
      INSERT INTO server_versions (server_id, version, repo_key, repo_path,
          readme_path, artifact_sha256, artifact_size, description,
          environment_variables, runtime_arguments, created_by, seq)
      SELECT s.id, s.latest_version, s.repo_key, $8::text, $9::text,
             $10::text, $11::bigint, s.description, $13::jsonb, $14::jsonb,
             s.created_by, 1
      FROM s
      RETURNING *)
    SELECT )sql" MCPREG_SERVER_COLUMNS ", " MCPREG_VERSION_COLUMNS "FROM s, v");
  // The row lock orders this registration after a concurrent unregister of
  // the server, and numbers versions without gaps or duplicates.
  c.prepare(kLockServer, R"sql(
    SELECT id, repo_key, latest_version, version_count FROM servers
    WHERE project_key = $1 AND name = $2 FOR UPDATE)sql");
  c.prepare(kInsertVersion, R"sql(
    INSERT INTO server_versions AS v (server_id, version, repo_key, repo_path,
        readme_path, artifact_sha256, artifact_size, description,
        environment_variables, runtime_arguments, created_by, seq)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12)
    ON CONFLICT (server_id, version) DO NOTHING
    RETURNING )sql" MCPREG_VERSION_COLUMNS);
  c.prepare(kCompareVersion, R"sql(
    SELECT repo_path = $3 AND readme_path = $4 AND artifact_sha256 = $5
           AND description = $6 AND environment_variables = $7::jsonb
           AND runtime_arguments = $8::jsonb,
           repo_path
    FROM server_versions WHERE server_id = $1 AND version = $2)sql");
  // $4: whether the version just added is the new latest, whose description
  // ($5) becomes the server's.
  c.prepare(kRecordVersion, R"sql(
    UPDATE servers s SET latest_version = $2, version_count = $3,
                         description = CASE WHEN $4 THEN $5
                                            ELSE s.description END,
                         updated_at = now()
    WHERE s.id = $1
    RETURNING )sql" MCPREG_SERVER_COLUMNS);
  c.prepare(kServerById,
            "SELECT " MCPREG_SERVER_COLUMNS "FROM servers s WHERE s.id = $1");
  c.prepare(kVersionOf, "SELECT " MCPREG_VERSION_COLUMNS R"sql(
    FROM server_versions v WHERE v.server_id = $1 AND v.version = $2)sql");
  // The server and one version of it ($3, or the latest when ''); the
  // version's columns are NULL when it has no such version.
  c.prepare(kFindWithVersion,
            "SELECT " MCPREG_SERVER_COLUMNS ", " MCPREG_VERSION_COLUMNS R"sql(
    FROM servers s
    LEFT JOIN server_versions v
      ON v.server_id = s.id
     AND v.version = coalesce(nullif($3, ''), s.latest_version)
    WHERE s.project_key = $1 AND (s.name = $2 OR s.display_name = $2))sql");
  // A page of versions other than $2 (the latest, shown first), newest
  // registration first, through the (server_id, seq) index.
  c.prepare(kVersionsBefore, "SELECT " MCPREG_VERSION_COLUMNS R"sql(
    FROM server_versions v
    WHERE v.server_id = $1 AND v.version <> $2 AND v.seq < $3
    ORDER BY v.seq DESC
    LIMIT $4)sql");
  // Lookup and removal in one statement: of concurrent unregisters, the
  // first deletes the row and the others, waiting on its lock, find it gone
  // when they re-check — so exactly one reports (and audits) a removal.
  c.prepare(kDeleteServer, R"sql(
    DELETE FROM servers s
    WHERE s.project_key = $1 AND (s.name = $2 OR s.display_name = $2)
    RETURNING s.id, s.name, s.display_name, s.version_count)sql");
  c.prepare(kRepositoriesOf, R"sql(
    SELECT DISTINCT repo_key FROM servers WHERE project_key = $1
    ORDER BY repo_key)sql");
  c.prepare(kListServers,
            "SELECT " MCPREG_SERVER_COLUMNS ", " MCPREG_VERSION_COLUMNS R"sql(,
           p.mode
    FROM servers s
    JOIN server_versions v
      ON v.server_id = s.id AND v.version = s.latest_version
    LEFT JOIN tool_policies p ON p.server_id = s.id
    WHERE s.project_key = $1
      AND s.repo_key IN (SELECT jsonb_array_elements_text($2::jsonb))
      AND s.name > $3
      AND ($5 = '' OR strpos(lower(s.name || ' ' || s.display_name || ' ' ||
                                   s.description), lower($5)) > 0)
    ORDER BY s.name
    LIMIT $4)sql");
}

namespace {

// How often a registration looks again for a server that an unregister
// removed between its insert and its lock: each time, the insert creates
// the server anew unless yet another registration got there first.
constexpr int kRegisterPasses = 3;

}  // namespace

absl::StatusOr<Registered> PgServerStore::Register(const NewServerVersion& v,
                                                   const AuditEvent& audit,
                                                   absl::Time deadline) {
  const std::string env_json = JsonArray(v.environment_variables);
  const std::string args_json = JsonArray(v.runtime_arguments);
  TransactionOptions options;
  options.deadline = deadline;
  options.what = absl::StrCat("registering ", v.display_name);
  Registered out;
  absl::Status status = RunTransaction(pool_, options, [&](Transaction& txn) {
    for (int pass = 0; pass < kRegisterPasses; ++pass) {
      out = Registered();
      pqxx::result inserted = txn.exec_prepared(
          kInsertNewServer, v.project_key, v.name, v.display_name, v.repo_key,
          v.package_type, v.version, v.actor, v.repo_path, v.readme_path,
          v.artifact_sha256, v.artifact_size, v.description, env_json,
          args_json);
      if (!inserted.empty()) {
        // The response is what the statement returned, read before the
        // audit row: that row takes the audit chain's lock, held until
        // commit.
        ServerWithVersionFromRow(inserted[0], out.server);
        AppendAudit(txn, audit);
        out.created = true;
        return absl::OkStatus();
      }
      // Someone registered this name first (perhaps a moment ago, on another
      // replica): lock their row and add to it if it is the same package.
      pqxx::result existing =
          txn.exec_prepared(kLockServer, v.project_key, v.name);
      if (existing.empty()) continue;  // unregistered meanwhile: insert anew
      const int64_t server_id = existing[0][0].as<int64_t>();
      const std::string repo = existing[0][1].as<std::string>();
      const std::string latest = existing[0][2].as<std::string>();
      const int64_t count = existing[0][3].as<int64_t>();
      if (repo != v.repo_key) {
        return absl::AlreadyExistsError(absl::StrCat(
            "a server named '", v.name, "' is already registered in project '",
            v.project_key, "' from repository '", repo,
            "'; unregister it first or choose another name"));
      }
      pqxx::result added = txn.exec_prepared(
          kInsertVersion, server_id, v.version, v.repo_key, v.repo_path,
          v.readme_path, v.artifact_sha256, v.artifact_size, v.description,
          env_json, args_json, v.actor, count + 1);
      if (added.empty()) {
        pqxx::result same = txn.exec_prepared(
            kCompareVersion, server_id, v.version, v.repo_path, v.readme_path,
            v.artifact_sha256, v.description, env_json, args_json);
        if (same.empty() || !same[0][0].as<bool>()) {
          return absl::AlreadyExistsError(absl::StrCat(
              "version ", v.version, " of ", v.display_name,
              " is already registered with a different artifact or metadata (",
              same.empty() ? "?" : same[0][1].as<std::string>(),
              "); publish a new version instead"));
        }
        // An identical retry: nothing to write, the record as it stands.
        ServerFromRow(txn.exec_prepared(kServerById, server_id).at(0),
                      out.server);
        VersionFromRow(
            txn.exec_prepared(kVersionOf, server_id, v.version).at(0), 0,
            *out.server.add_versions());
        return absl::OkStatus();
      }
      const bool becomes_latest =
          SupersedesLatest(v.package_type, v.version, latest);
      ServerFromRow(txn.exec_prepared(kRecordVersion, server_id,
                                      becomes_latest ? v.version : latest,
                                      count + 1, becomes_latest, v.description)
                        .at(0),
                    out.server);
      VersionFromRow(added[0], 0, *out.server.add_versions());
      AppendAudit(txn, audit);
      out.created = true;
      return absl::OkStatus();
    }
    return absl::AbortedError(absl::StrCat(
        v.display_name,
        " was unregistered and registered again repeatedly while this "
        "registration ran; retry"));
  });
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<UnregisterResult> PgServerStore::Unregister(
    const std::string& project_key, const std::string& name_or_display,
    AuditEvent audit, absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = absl::StrCat("unregistering ", name_or_display);
  UnregisterResult result;
  absl::Status status = RunTransaction(pool_, options, [&](Transaction& txn) {
    // Versions and policies go with it (ON DELETE CASCADE); replicas drop
    // the cached policy when this commits.
    pqxx::result removed =
        txn.exec_prepared(kDeleteServer, project_key, name_or_display);
    if (removed.empty()) {
      return absl::NotFoundError(absl::StrCat("no server named '",
                                              name_or_display, "' in project '",
                                              project_key, "'"));
    }
    const int64_t id = removed[0][0].as<int64_t>();
    result.server_id = id;
    result.name = removed[0][1].as<std::string>();
    result.display_name = removed[0][2].as<std::string>();
    result.versions_removed = removed[0][3].as<uint32_t>();
    NotifyPolicyChanged(txn, id);
    audit.server = result.display_name;
    AppendAudit(txn, audit);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

namespace {

absl::Status ServerNotFound(const std::string& project_key,
                            const std::string& name_or_display) {
  return absl::NotFoundError(absl::StrCat("no server named '", name_or_display,
                                          "' in project '", project_key, "'"));
}

}  // namespace

absl::StatusOr<ServerVersions> PgServerStore::Get(
    const std::string& project_key, const std::string& name_or_display,
    uint32_t page_size, int64_t before, absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = absl::StrCat("reading ", name_or_display);
  ServerVersions out;
  absl::Status status =
      RunReadOnly(pool_, options, [&](pqxx::nontransaction& q) {
        out = ServerVersions();
        pqxx::result found = q.exec_prepared(kFindWithVersion, project_key,
                                             name_or_display, std::string());
        if (found.empty()) return ServerNotFound(project_key, name_or_display);
        v1::Server latest_only;
        const int64_t id = ServerFromRow(found[0], out.server);
        const bool has_latest = ServerWithVersionFromRow(found[0], latest_only);
        uint32_t room = page_size;
        if (before == 0) {  // the first page: the latest, then the newest
          if (has_latest) {
            *out.server.add_versions() =
                std::move(*latest_only.mutable_versions(0));
            --room;
          }
          before = std::numeric_limits<int32_t>::max();
        }
        // One extra row says whether another page follows.
        pqxx::result rows =
            q.exec_prepared(kVersionsBefore, id, out.server.latest_version(),
                            before, static_cast<int64_t>(room) + 1);
        int64_t last_seq = before;
        for (size_t i = 0; i < rows.size() && i < room; ++i) {
          last_seq = VersionFromRow(rows[i], 0, *out.server.add_versions());
        }
        if (rows.size() > room) out.next_before = last_seq;
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<v1::Server> PgServerStore::GetVersion(
    const std::string& project_key, const std::string& name_or_display,
    const std::string& version, absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = absl::StrCat("reading ", name_or_display);
  v1::Server server;
  absl::Status status =
      RunReadOnly(pool_, options, [&](pqxx::nontransaction& q) {
        server.Clear();
        pqxx::result found = q.exec_prepared(kFindWithVersion, project_key,
                                             name_or_display, version);
        if (found.empty()) return ServerNotFound(project_key, name_or_display);
        if (!ServerWithVersionFromRow(found[0], server)) {
          return absl::NotFoundError(
              absl::StrCat("version: ", server.display_name(),
                           " has no version '", version, "'"));
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return server;
}

absl::StatusOr<std::vector<std::string>> PgServerStore::RepositoriesOf(
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

absl::StatusOr<ServerPage> PgServerStore::List(
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
          ServerWithVersionFromRow(rows[i], s);
          // The policy's mode at a glance (its entries are GetServer's).
          const pqxx::field mode = rows[i][kListPolicyModeColumn];
          v1::ToolPolicy::Mode parsed;
          if (!mode.is_null() &&
              v1::ToolPolicy::Mode_Parse(mode.as<std::string>(), &parsed)) {
            s.mutable_tool_policy()->set_mode(parsed);
          }
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

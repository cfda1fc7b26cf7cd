#include "policy_store.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "transaction.h"

namespace mcpreg::storage::pg {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kLoadPolicy[] = "policy_load";
constexpr char kUpsertPolicy[] = "policy_upsert";
constexpr char kNotify[] = "policy_notify";
constexpr char kLockServer[] = "policy_lock_server";

// Entries are kept as the JSON array of ToolPolicyEntry messages.
std::string EntriesJson(const v1::ToolPolicy& policy) {
  v1::ToolPolicy entries_only;
  *entries_only.mutable_entries() = policy.entries();
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(entries_only, &json);
  // {"entries":[...]} -> [...]; an empty list prints as {}.
  const size_t open = json.find('[');
  return open == std::string::npos
             ? "[]"
             : json.substr(open, json.rfind(']') - open + 1);
}

bool ParseEntries(const std::string& json, v1::ToolPolicy* policy) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  return google::protobuf::util::JsonStringToMessage(
             absl::StrCat("{\"entries\":", json, "}"), policy, options)
      .ok();
}

}  // namespace

void PreparePolicyStatements(pqxx::connection& c) {
  c.prepare(kLoadPolicy, R"sql(
    SELECT s.id, s.name, s.display_name, s.repo_key, s.package_type,
           p.mode IS NOT NULL, coalesce(p.mode, ''),
           coalesce(p.entries, '[]'::jsonb)::text,
           coalesce((extract(epoch FROM p.updated_at) * 1000000)::bigint, 0),
           coalesce(p.updated_by, '')
    FROM servers s LEFT JOIN tool_policies p ON p.server_id = s.id
    WHERE s.project_key = $1 AND (s.name = $2 OR s.display_name = $2))sql");
  c.prepare(kUpsertPolicy, R"sql(
    INSERT INTO tool_policies (server_id, mode, entries, updated_by)
    VALUES ($1, $2, $3::jsonb, $4)
    ON CONFLICT (server_id) DO UPDATE
      SET mode = EXCLUDED.mode, entries = EXCLUDED.entries,
          updated_by = EXCLUDED.updated_by, updated_at = now())sql");
  c.prepare(kNotify, "SELECT pg_notify($1, $2)");
  c.prepare(kLockServer, "SELECT 1 FROM servers WHERE id = $1 FOR SHARE");
}

void NotifyAccessChanged(Transaction& txn) {
  txn.exec_prepared(kNotify, std::string(kAccessChannel), std::string());
}

void NotifyPolicyChanged(pqxx::transaction_base& txn, int64_t server_id) {
  txn.exec_prepared(kNotify, std::string(kPolicyChannel),
                    std::to_string(server_id));
}

absl::StatusOr<ServerPolicy> PolicyStore::Load(
    const std::string& project_key, const std::string& name_or_display,
    absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = absl::StrCat("reading the policy of ", name_or_display);
  ServerPolicy out;
  absl::Status status =
      RunReadOnly(pool_, options, [&](pqxx::nontransaction& q) {
        pqxx::result rows =
            q.exec_prepared(kLoadPolicy, project_key, name_or_display);
        if (rows.empty()) {
          return absl::NotFoundError(
              absl::StrCat("server: no server named '", name_or_display,
                           "' in project '", project_key, "'"));
        }
        const pqxx::row& r = rows[0];
        out = ServerPolicy();
        out.server_id = r[0].as<int64_t>();
        out.name = r[1].as<std::string>();
        out.display_name = r[2].as<std::string>();
        out.repo_key = r[3].as<std::string>();
        out.package_type = r[4].as<std::string>();
        if (!r[5].as<bool>()) return absl::OkStatus();
        v1::ToolPolicy& p = out.policy.emplace();
        v1::ToolPolicy::Mode mode;
        if (!v1::ToolPolicy::Mode_Parse(r[6].as<std::string>(), &mode) ||
            !ParseEntries(r[7].as<std::string>(), &p)) {
          return absl::DataLossError(absl::StrCat(
              "the stored policy of ", out.display_name, " is unreadable"));
        }
        p.set_mode(mode);
        p.set_project_key(project_key);
        p.set_server(out.name);
        p.set_display_name(out.display_name);
        *p.mutable_updated_at() =
            TimeUtil::MicrosecondsToTimestamp(r[8].as<int64_t>());
        p.set_updated_by(r[9].as<std::string>());
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return out;
}

absl::Status PolicyStore::Set(int64_t server_id, const v1::ToolPolicy& policy,
                              const std::string& actor, const AuditEvent& audit,
                              absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = absl::StrCat("setting the tool policy of ", audit.server);
  const std::string entries = EntriesJson(policy);
  const std::string mode = v1::ToolPolicy::Mode_Name(policy.mode());
  absl::Status status = RunTransaction(pool_, options, [&](Transaction& txn) {
    // Holds off a concurrent unregister until this commits.
    if (txn.exec_prepared(kLockServer, server_id).empty()) {
      return absl::NotFoundError(absl::StrCat("server: ", audit.server,
                                              " was unregistered meanwhile"));
    }
    txn.exec_prepared(kUpsertPolicy, server_id, mode, entries, actor);
    AppendAudit(txn, audit);
    NotifyPolicyChanged(txn, server_id);
    return absl::OkStatus();
  });
  return status;
}

}  // namespace mcpreg::storage::pg

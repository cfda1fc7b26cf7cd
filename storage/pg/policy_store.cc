#include "storage/pg/policy_store.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "storage/pg/transaction.h"

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

// A policy from its stored columns, starting at `first`: mode, entries
// (JSON), updated_at (µs), updated_by, pin_definitions, trust_on_first_use,
// audit_argument_values.
absl::StatusOr<v1::ToolPolicy> PolicyFromColumns(const ServerPolicy& server,
                                                 const pqxx::row& r,
                                                 int first) {
  v1::ToolPolicy p;
  v1::ToolPolicy::Mode mode;
  if (!v1::ToolPolicy::Mode_Parse(r[first].as<std::string>(), &mode) ||
      !ParseEntries(r[first + 1].as<std::string>(), &p)) {
    return absl::DataLossError(absl::StrCat(
        "the stored policy of ", server.display_name, " is unreadable"));
  }
  p.set_mode(mode);
  p.set_project_key(server.project_key);
  p.set_server(server.name);
  p.set_display_name(server.display_name);
  *p.mutable_updated_at() =
      TimeUtil::MicrosecondsToTimestamp(r[first + 2].as<int64_t>());
  p.set_updated_by(r[first + 3].as<std::string>());
  p.set_pin_definitions(r[first + 4].as<bool>());
  p.set_trust_on_first_use(r[first + 5].as<bool>());
  p.set_audit_argument_values(r[first + 6].as<bool>());
  return p;
}

// [["a","b"],...] (json_agg of json_build_array) as string tuples.
template <size_t N>
bool ParseTuples(const std::string& json,
                 std::vector<std::array<std::string, N>>* out) {
  google::protobuf::ListValue list;
  // A ListValue's JSON form is the array itself.
  if (!google::protobuf::util::JsonStringToMessage(json, &list).ok()) {
    return false;
  }
  for (const google::protobuf::Value& v : list.values()) {
    if (!v.has_list_value() || v.list_value().values_size() != N) return false;
    std::array<std::string, N> tuple;
    for (size_t i = 0; i < N; ++i) {
      tuple[i] = v.list_value().values(static_cast<int>(i)).string_value();
    }
    out->push_back(std::move(tuple));
  }
  return true;
}

bool ParsePairs(const std::string& json,
                std::vector<std::pair<std::string, std::string>>* out) {
  std::vector<std::array<std::string, 2>> tuples;
  if (!ParseTuples(json, &tuples)) return false;
  for (auto& [tool, digest] : tuples) {
    out->emplace_back(std::move(tool), std::move(digest));
  }
  return true;
}

}  // namespace

void PreparePolicyStatements(pqxx::connection& c) {
  c.prepare(kLoadPolicy, R"sql(
    SELECT s.id, s.name, s.display_name, s.repo_key, s.package_type,
           p.mode IS NOT NULL, coalesce(p.mode, ''),
           coalesce(p.entries, '[]'::jsonb)::text,
           coalesce((extract(epoch FROM p.updated_at) * 1000000)::bigint, 0),
           coalesce(p.updated_by, ''), coalesce(p.pin_definitions, false),
           coalesce(p.trust_on_first_use, false),
           coalesce(p.audit_argument_values, false), coalesce(p.revision, 0),
           (SELECT coalesce(json_agg(json_build_array(d.tool, d.digest)), '[]')
              FROM tool_definitions d WHERE d.server_id = s.id)::text,
           (SELECT coalesce(json_agg(json_build_array(a.tool, a.digest)), '[]')
              FROM tool_definition_approvals a
              WHERE a.server_id = s.id AND a.revoked_at IS NULL)::text,
           (SELECT coalesce(json_agg(json_build_array(v.version, v.tool,
                                                      v.digest)), '[]')
              FROM tool_definition_sightings v WHERE v.server_id = s.id)::text,
           (SELECT coalesce(json_agg(json_build_array(h.tool)), '[]')
              FROM (SELECT DISTINCT tool FROM tool_definition_approvals
                    WHERE server_id = s.id) h)::text
    FROM servers s LEFT JOIN tool_policies p ON p.server_id = s.id
    WHERE s.project_key = $1 AND (s.name = $2 OR s.display_name = $2))sql");
  c.prepare(kUpsertPolicy, R"sql(
    INSERT INTO tool_policies AS p (server_id, mode, entries, updated_by,
                                    pin_definitions, trust_on_first_use,
                                    audit_argument_values)
    VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)
    ON CONFLICT (server_id) DO UPDATE
      SET mode = EXCLUDED.mode, entries = EXCLUDED.entries,
          updated_by = EXCLUDED.updated_by, updated_at = now(),
          pin_definitions = EXCLUDED.pin_definitions,
          trust_on_first_use = EXCLUDED.trust_on_first_use,
          audit_argument_values = EXCLUDED.audit_argument_values,
          revision = nextval('tool_policy_revisions')
    RETURNING p.mode, p.entries::text,
              (extract(epoch FROM p.updated_at) * 1000000)::bigint,
              p.updated_by, p.pin_definitions, p.trust_on_first_use,
              p.audit_argument_values)sql");
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

absl::StatusOr<ServerPolicy> PgPolicyStore::Load(
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
        out.project_key = project_key;
        out.policy_revision = r[13].as<int64_t>();
        std::vector<std::array<std::string, 1>> ever_approved;
        if (!ParsePairs(r[14].as<std::string>(), &out.definitions) ||
            !ParsePairs(r[15].as<std::string>(), &out.approved_definitions) ||
            !ParseTuples(r[16].as<std::string>(), &out.definition_sightings) ||
            !ParseTuples(r[17].as<std::string>(), &ever_approved)) {
          return absl::DataLossError(absl::StrCat(
              "the tool definitions of ", out.display_name, " are unreadable"));
        }
        for (auto& [tool] : ever_approved) {
          out.tools_ever_approved.push_back(std::move(tool));
        }
        if (!r[5].as<bool>()) return absl::OkStatus();
        absl::StatusOr<v1::ToolPolicy> policy = PolicyFromColumns(out, r, 6);
        if (!policy.ok()) return policy.status();
        out.policy = *std::move(policy);
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<v1::ToolPolicy> PgPolicyStore::Set(const ServerPolicy& server,
                                                  const v1::ToolPolicy& policy,
                                                  const std::string& actor,
                                                  const AuditEvent& audit,
                                                  absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = absl::StrCat("setting the tool policy of ", audit.server);
  const std::string entries = EntriesJson(policy);
  const std::string mode = v1::ToolPolicy::Mode_Name(policy.mode());
  v1::ToolPolicy stored;
  absl::Status status = RunTransaction(pool_, options, [&](Transaction& txn) {
    // Holds off a concurrent unregister until this commits.
    if (txn.exec_prepared(kLockServer, server.server_id).empty()) {
      return absl::NotFoundError(absl::StrCat("server: ", audit.server,
                                              " was unregistered meanwhile"));
    }
    pqxx::result row =
        txn.exec_prepared(kUpsertPolicy, server.server_id, mode, entries, actor,
                          policy.pin_definitions(), policy.trust_on_first_use(),
                          policy.audit_argument_values());
    absl::StatusOr<v1::ToolPolicy> parsed =
        PolicyFromColumns(server, row.at(0), 0);
    if (!parsed.ok()) return parsed.status();
    stored = *std::move(parsed);
    AppendAudit(txn, audit);
    NotifyPolicyChanged(txn, server.server_id);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return stored;
}

}  // namespace mcpreg::storage::pg

#include "storage/pg/tool_definition_store.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"
#include "storage/pg/audit_store.h"
#include "storage/pg/policy_store.h"
#include "storage/pg/transaction.h"

namespace mcpreg::storage::pg {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kLockServer[] = "tooldef_lock_server";
constexpr char kLockPolicy[] = "tooldef_lock_policy";
constexpr char kVersionExists[] = "tooldef_version_exists";
constexpr char kInsertDefinition[] = "tooldef_insert";
constexpr char kInsertSighting[] = "tooldef_sighting";
constexpr char kApproveFirstUse[] = "tooldef_first_use";
constexpr char kBumpRevision[] = "tooldef_bump_revision";
constexpr char kDefinitionExists[] = "tooldef_exists";
constexpr char kVersionDefinitions[] = "tooldef_of_version";
constexpr char kApprove[] = "tooldef_approve";
constexpr char kRevoke[] = "tooldef_revoke";
constexpr char kList[] = "tooldef_list";

// The columns kList returns, as a record.
constexpr char kRecordColumns[] = R"sql(
    d.tool, d.digest, d.definition, d.first_version,
    (extract(epoch FROM d.first_seen_at) * 1000000)::bigint,
    a.digest IS NOT NULL, coalesce(a.approved_by, ''),
    coalesce((extract(epoch FROM a.approved_at) * 1000000)::bigint, 0),
    d.previous_digest)sql";

constexpr char kFirstUse[] = "first use";
// What one server may accumulate (docs/policies.md#limits).
constexpr int kMaxDefinitionsPerServer = 5000;
constexpr int kMaxSightingsPerServer = 50000;
// Listing stops here; a server with more recorded definitions than this is
// not one a person reviews in one page.
constexpr int kMaxListed = 5000;

v1::ToolDefinitionRecord RecordFromRow(const pqxx::row& r) {
  v1::ToolDefinitionRecord out;
  out.set_tool(r[0].as<std::string>());
  out.set_digest(r[1].as<std::string>());
  out.set_definition_json(r[2].as<std::string>());
  out.set_first_version(r[3].as<std::string>());
  *out.mutable_first_seen_at() =
      TimeUtil::MicrosecondsToTimestamp(r[4].as<int64_t>());
  out.set_approved(r[5].as<bool>());
  if (out.approved()) {
    out.set_approved_by(r[6].as<std::string>());
    *out.mutable_approved_at() =
        TimeUtil::MicrosecondsToTimestamp(r[7].as<int64_t>());
  }
  out.set_previous_digest(r[8].as<std::string>());
  return out;
}

std::string Short(const std::string& digest) { return digest.substr(0, 12); }

// The JSON of digests is hex only, so it needs no escaping.
std::string DigestDetails(const std::string& digest,
                          const std::string& previous) {
  return previous.empty()
             ? absl::StrCat("{\"digest\":\"", digest, "\"}")
             : absl::StrCat("{\"digest\":\"", digest,
                            "\",\"previousDigest\":\"", previous, "\"}");
}

// Holds off an unregister until the transaction ends; NOT_FOUND if it came
// first.
absl::Status LockServer(pqxx::transaction_base& txn,
                        const ServerPolicy& server) {
  if (txn.exec_prepared(kLockServer, server.server_id).empty()) {
    return absl::NotFoundError(absl::StrCat("server: ", server.display_name,
                                            " was unregistered meanwhile"));
  }
  return absl::OkStatus();
}

// Approvals are part of the policy: a decision taken on the approvals before
// this change must not be recorded after it (the revision fence), and every
// replica's cache must drop them.
void ApprovalsChanged(pqxx::transaction_base& txn, int64_t server_id) {
  txn.exec_prepared(kBumpRevision, server_id);
  NotifyPolicyChanged(txn, server_id);
}

}  // namespace

void PrepareToolDefinitionStatements(pqxx::connection& c) {
  c.prepare(kLockServer, "SELECT 1 FROM servers WHERE id = $1 FOR SHARE");
  // Serialises first-use approvals of one server: two reports of different
  // first definitions of a tool must not both be approved.
  c.prepare(kLockPolicy, R"sql(
    SELECT pin_definitions AND trust_on_first_use FROM tool_policies
    WHERE server_id = $1 FOR UPDATE)sql");
  c.prepare(kVersionExists,
            "SELECT 1 FROM server_versions WHERE server_id = $1 AND "
            "version = $2");
  // Bounded per server ($7): past it a new definition is not recorded (so,
  // pinned, it cannot be approved), and the store does not grow without end
  // for a server whose tools change at every listing.
  c.prepare(kInsertDefinition, R"sql(
    INSERT INTO tool_definitions (server_id, tool, digest, definition,
                                  first_version, first_seen_by,
                                  previous_digest)
    SELECT $1, $2, $3, $4, $5, $6,
           coalesce((SELECT digest FROM tool_definitions
                     WHERE server_id = $1 AND tool = $2
                     ORDER BY id DESC LIMIT 1), '')
    WHERE (SELECT count(*) FROM tool_definitions WHERE server_id = $1) < $7
    ON CONFLICT (server_id, tool, digest) DO NOTHING
    RETURNING previous_digest)sql");
  c.prepare(kInsertSighting, R"sql(
    INSERT INTO tool_definition_sightings (server_id, version, tool, digest)
    SELECT $1, $2, $3, $4
    WHERE EXISTS (SELECT 1 FROM tool_definitions
                  WHERE server_id = $1 AND tool = $3 AND digest = $4)
      AND (SELECT count(*) FROM tool_definition_sightings
           WHERE server_id = $1) < $5
    ON CONFLICT DO NOTHING)sql");
  // A tool's only definition ever recorded, when the tool never had an
  // approval (a revoked one counts: revoking does not re-arm first use).
  c.prepare(kApproveFirstUse, R"sql(
    INSERT INTO tool_definition_approvals (server_id, tool, digest,
                                           approved_by)
    SELECT $1, $2, $3, $4
    WHERE NOT EXISTS (SELECT 1 FROM tool_definition_approvals
                      WHERE server_id = $1 AND tool = $2)
      AND (SELECT count(*) FROM tool_definitions
           WHERE server_id = $1 AND tool = $2) = 1
      AND EXISTS (SELECT 1 FROM tool_definitions
                  WHERE server_id = $1 AND tool = $2 AND digest = $3)
    ON CONFLICT DO NOTHING
    RETURNING 1)sql");
  c.prepare(kBumpRevision, R"sql(
    UPDATE tool_policies SET revision = nextval('tool_policy_revisions')
    WHERE server_id = $1)sql");
  c.prepare(kDefinitionExists,
            "SELECT 1 FROM tool_definitions WHERE server_id = $1 AND tool = "
            "$2 AND digest = $3");
  c.prepare(kVersionDefinitions, R"sql(
    SELECT tool, digest FROM tool_definition_sightings
    WHERE server_id = $1 AND version = $2 ORDER BY tool, digest)sql");
  c.prepare(kApprove, R"sql(
    INSERT INTO tool_definition_approvals AS a (server_id, tool, digest,
                                                approved_by)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT (server_id, tool, digest) DO UPDATE
      SET approved_by = EXCLUDED.approved_by, approved_at = now(),
          revoked_by = '', revoked_at = NULL
      WHERE a.revoked_at IS NOT NULL
    RETURNING 1)sql");
  c.prepare(kRevoke, R"sql(
    UPDATE tool_definition_approvals SET revoked_by = $4, revoked_at = now()
    WHERE server_id = $1 AND tool = $2 AND digest = $3
      AND revoked_at IS NULL
    RETURNING 1)sql");
  c.prepare(kList, absl::StrCat("SELECT ", kRecordColumns, R"sql(
    FROM tool_definitions d
    LEFT JOIN tool_definition_approvals a
      ON a.server_id = d.server_id AND a.tool = d.tool AND a.digest = d.digest
         AND a.revoked_at IS NULL
    WHERE d.server_id = $1 ORDER BY d.tool, d.id DESC LIMIT $2)sql"));
}

absl::Status PgToolDefinitionStore::Record(
    const ServerPolicy& server, const std::string& version,
    const std::vector<ReportedDefinition>& reported, const AuditEvent& audit,
    absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what =
      absl::StrCat("recording the tool definitions of ", server.display_name);
  return RunTransaction(pool_, options, [&](Transaction& txn) {
    if (absl::Status s = LockServer(txn, server); !s.ok()) return s;
    if (!version.empty() &&
        txn.exec_prepared(kVersionExists, server.server_id, version).empty()) {
      return absl::InvalidArgumentError(absl::StrCat("version: '", version,
                                                     "' is not a version of ",
                                                     server.display_name));
    }
    pqxx::result policy = txn.exec_prepared(kLockPolicy, server.server_id);
    const bool first_use = !policy.empty() && policy[0][0].as<bool>();
    const bool pinned =
        server.policy.has_value() && server.policy->pin_definitions();
    bool approvals_changed = false;
    for (const ReportedDefinition& d : reported) {
      pqxx::result inserted = txn.exec_prepared(
          kInsertDefinition, server.server_id, d.tool, d.digest,
          d.canonical_json, version, audit.actor, kMaxDefinitionsPerServer);
      if (!inserted.empty()) {
        const std::string previous = inserted[0][0].as<std::string>();
        if (!previous.empty()) {
          AuditEvent changed = audit;
          changed.action = "tool.definition_changed";
          changed.tool = d.tool;
          // Under pinning the new definition is refused until approved.
          changed.decision = pinned ? "DENY" : "ALLOW";
          changed.reason = absl::StrCat(
              "the definition of tool '", d.tool, "' changed from ",
              Short(previous), " to ", Short(d.digest),
              version.empty() ? "" : absl::StrCat(" (version ", version, ")"),
              pinned ? "; it is not usable until approved" : "");
          changed.details_json = DigestDetails(d.digest, previous);
          AppendAudit(txn, changed);
        }
      }
      if (!version.empty()) {
        txn.exec_prepared(kInsertSighting, server.server_id, version, d.tool,
                          d.digest, kMaxSightingsPerServer);
      }
      if (first_use &&
          !txn.exec_prepared(kApproveFirstUse, server.server_id, d.tool,
                             d.digest, std::string(kFirstUse))
               .empty()) {
        AuditEvent approved = audit;
        approved.action = "tool.definition_approved";
        approved.tool = d.tool;
        approved.decision = "ALLOW";
        approved.reason =
            absl::StrCat("the first definition of tool '", d.tool, "' (",
                         Short(d.digest), ") was approved on first use");
        approved.details_json = DigestDetails(d.digest, "");
        AppendAudit(txn, approved);
        approvals_changed = true;
      }
    }
    if (approvals_changed) ApprovalsChanged(txn, server.server_id);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::ToolDefinitionRecord>>
PgToolDefinitionStore::List(const ServerPolicy& server, absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what =
      absl::StrCat("listing the tool definitions of ", server.display_name);
  std::vector<v1::ToolDefinitionRecord> out;
  absl::Status status =
      RunReadOnly(pool_, options, [&](pqxx::nontransaction& q) {
        out.clear();
        for (const pqxx::row& r :
             q.exec_prepared(kList, server.server_id, kMaxListed)) {
          out.push_back(RecordFromRow(r));
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<std::vector<v1::ToolDefinitionRecord>>
PgToolDefinitionStore::SetApproval(const ServerPolicy& server,
                                   const std::vector<DefinitionRef>& refs,
                                   const std::string& version, bool approve,
                                   const std::string& actor,
                                   const AuditEvent& audit,
                                   absl::Time deadline) {
  TransactionOptions options;
  options.deadline = deadline;
  options.what = absl::StrCat(approve ? "approving" : "revoking",
                              " tool definitions of ", server.display_name);
  std::vector<DefinitionRef> changed;
  absl::Status status = RunTransaction(pool_, options, [&](Transaction& txn) {
    changed.clear();
    if (absl::Status s = LockServer(txn, server); !s.ok()) return s;
    txn.exec_prepared(kLockPolicy, server.server_id);
    std::set<DefinitionRef> wanted;
    for (size_t i = 0; i < refs.size(); ++i) {
      const auto& [tool, digest] = refs[i];
      if (txn.exec_prepared(kDefinitionExists, server.server_id, tool, digest)
              .empty()) {
        return absl::NotFoundError(
            absl::StrCat("definitions[", i, "]: no definition of tool '", tool,
                         "' with digest ", digest, " was reported for ",
                         server.display_name));
      }
      wanted.insert(refs[i]);
    }
    if (!version.empty()) {
      pqxx::result of_version =
          txn.exec_prepared(kVersionDefinitions, server.server_id, version);
      if (of_version.empty()) {
        return absl::NotFoundError(absl::StrCat(
            "version: no tool definitions were reported for ",
            server.display_name, " ", version,
            "; run it through the guard and list its tools first"));
      }
      std::set<std::string> tools, ambiguous;
      for (const pqxx::row& r : of_version) {
        const std::string tool = r[0].as<std::string>();
        if (!tools.insert(tool).second) ambiguous.insert(tool);
        wanted.emplace(tool, r[1].as<std::string>());
      }
      // A version that showed a tool two ways (it changed mid-session, or
      // someone reported for it what it never showed): a person picks the
      // definition, by digest.
      if (approve && !ambiguous.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "version: ", server.display_name, " ", version,
            " showed more than one definition of ",
            absl::StrJoin(ambiguous, ", "),
            "; approve those by digest (definitions list shows them)"));
      }
    }
    for (const auto& [tool, digest] : wanted) {
      pqxx::result done = approve
                              ? txn.exec_prepared(kApprove, server.server_id,
                                                  tool, digest, actor)
                              : txn.exec_prepared(kRevoke, server.server_id,
                                                  tool, digest, actor);
      if (done.empty()) continue;  // already so
      changed.emplace_back(tool, digest);
      AuditEvent row = audit;
      row.action =
          approve ? "tool.definition_approved" : "tool.definition_revoked";
      row.tool = tool;
      row.decision = "ALLOW";
      row.reason = absl::StrCat("definition ", Short(digest), " of tool '",
                                tool, "' ", approve ? "approved" : "revoked");
      row.details_json = DigestDetails(digest, "");
      AppendAudit(txn, row);
    }
    if (!changed.empty()) ApprovalsChanged(txn, server.server_id);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  absl::StatusOr<std::vector<v1::ToolDefinitionRecord>> all =
      List(server, deadline);
  if (!all.ok()) return all.status();
  const std::set<DefinitionRef> wanted(changed.begin(), changed.end());
  std::vector<v1::ToolDefinitionRecord> out;
  for (v1::ToolDefinitionRecord& r : *all) {
    if (wanted.count({r.tool(), r.digest()}) > 0) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace mcpreg::storage::pg

#include "tests/support/fake_stores.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "storage/repo/package_version.h"

namespace mcpreg::testing {
namespace {

using google::protobuf::util::MessageDifferencer;
using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp Now() {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(absl::Now()));
}

absl::Status NoServer(const std::string& project_key,
                      const std::string& name_or_display) {
  return absl::NotFoundError(absl::StrCat("no server named '", name_or_display,
                                          "' in project '", project_key, "'"));
}

template <typename Message>
bool SameItems(const std::vector<Message>& a,
               const google::protobuf::RepeatedPtrField<Message>& b) {
  if (a.size() != static_cast<size_t>(b.size())) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!MessageDifferencer::Equals(a[i], b[static_cast<int>(i)])) return false;
  }
  return true;
}

}  // namespace

// --- FakeAuditLog ----------------------------------------------------------

absl::Status FakeAuditLog::Append(const storage::AuditEvent& event,
                                  absl::Time) {
  absl::MutexLock lock(&mu_);
  if (!fail_with_.ok()) return fail_with_;
  events_.push_back(event);
  return absl::OkStatus();
}

void FakeAuditLog::AppendAsync(const storage::AuditEvent& event, Done done) {
  done(Append(event, absl::InfiniteFuture()));
}

absl::StatusOr<storage::AuditPage> FakeAuditLog::List(
    const storage::AuditQuery& query, absl::Time) {
  absl::MutexLock lock(&mu_);
  storage::AuditPage page;
  for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
    if (it->project_key != query.project_key ||
        (!query.action.empty() && it->action != query.action)) {
      continue;
    }
    v1::AuditEvent& e = page.events.emplace_back();
    e.set_actor(it->actor);
    e.set_action(it->action);
    e.set_project_key(it->project_key);
    e.set_server(it->server);
    e.set_tool(it->tool);
    e.set_decision(it->decision);
    e.set_reason(it->reason);
  }
  return page;
}

absl::StatusOr<storage::ChainVerdict> FakeAuditLog::Verify(absl::Time) {
  absl::MutexLock lock(&mu_);
  storage::ChainVerdict v;
  v.rows_checked = static_cast<int64_t>(events_.size());
  return v;
}

std::vector<storage::AuditEvent> FakeAuditLog::events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

void FakeAuditLog::set_fail_with(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_with_ = std::move(status);
}

// --- FakeServerStore -------------------------------------------------------

std::map<std::pair<std::string, std::string>, FakeServerStore::Stored>::iterator
FakeServerStore::Lookup(const std::string& project_key,
                        const std::string& name_or_display) {
  for (auto it = servers_.begin(); it != servers_.end(); ++it) {
    if (it->first.first == project_key &&
        (it->second.server.name() == name_or_display ||
         it->second.server.display_name() == name_or_display)) {
      return it;
    }
  }
  return servers_.end();
}

v1::Server FakeServerStore::WithVersion(const Stored& s,
                                        const v1::ServerVersion& v) {
  v1::Server out = s.server;
  *out.add_versions() = v;
  return out;
}

absl::StatusOr<storage::Registered> FakeServerStore::Register(
    const storage::NewServerVersion& v, const storage::AuditEvent& audit,
    absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  v1::ServerVersion version;
  version.set_version(v.version);
  version.mutable_artifact()->set_repo_key(v.repo_key);
  version.mutable_artifact()->set_repo_path(v.repo_path);
  version.mutable_artifact()->set_readme_path(v.readme_path);
  version.set_artifact_sha256(v.artifact_sha256);
  version.set_artifact_size(v.artifact_size);
  version.set_description(v.description);
  for (const auto& e : v.environment_variables) {
    *version.add_environment_variables() = e;
  }
  for (const auto& a : v.runtime_arguments)
    *version.add_runtime_arguments() = a;
  *version.mutable_created_at() = Now();
  version.set_created_by(v.actor);

  storage::Registered out;
  auto it = servers_.find({v.project_key, v.name});
  if (it == servers_.end()) {
    Stored s;
    s.id = next_id_++;
    s.server.set_name(v.name);
    s.server.set_display_name(v.display_name);
    s.server.set_project_key(v.project_key);
    s.server.set_repo_key(v.repo_key);
    s.server.set_package_type(v.package_type);
    s.server.set_latest_version(v.version);
    s.server.set_description(v.description);
    s.server.set_version_count(1);
    *s.server.mutable_created_at() = Now();
    *s.server.mutable_updated_at() = Now();
    s.server.set_created_by(v.actor);
    s.versions.push_back(version);
    if (absl::Status a = audit_.Append(audit, deadline); !a.ok()) return a;
    out.created = true;
    out.server = WithVersion(s, version);
    servers_.emplace(std::make_pair(v.project_key, v.name), std::move(s));
    return out;
  }
  Stored& s = it->second;
  if (s.server.repo_key() != v.repo_key) {
    return absl::AlreadyExistsError(absl::StrCat(
        "a server named '", v.name, "' is already registered in project '",
        v.project_key, "' from repository '", s.server.repo_key(), "'"));
  }
  for (const v1::ServerVersion& existing : s.versions) {
    if (existing.version() != v.version) continue;
    const bool same =
        existing.artifact().repo_path() == v.repo_path &&
        existing.artifact().readme_path() == v.readme_path &&
        existing.artifact_sha256() == v.artifact_sha256 &&
        existing.description() == v.description &&
        SameItems(v.environment_variables, existing.environment_variables()) &&
        SameItems(v.runtime_arguments, existing.runtime_arguments());
    if (!same) {
      return absl::AlreadyExistsError(absl::StrCat(
          "version ", v.version, " of ", v.display_name,
          " is already registered with a different artifact or metadata"));
    }
    out.server = WithVersion(s, existing);
    return out;  // an identical retry: nothing written, nothing audited
  }
  if (absl::Status a = audit_.Append(audit, deadline); !a.ok()) return a;
  if (storage::SupersedesLatest(v.package_type, v.version,
                                s.server.latest_version())) {
    s.server.set_latest_version(v.version);
    s.server.set_description(v.description);
  }
  s.versions.push_back(version);
  s.server.set_version_count(static_cast<uint32_t>(s.versions.size()));
  *s.server.mutable_updated_at() = Now();
  out.created = true;
  out.server = WithVersion(s, version);
  return out;
}

absl::StatusOr<storage::UnregisterResult> FakeServerStore::Unregister(
    const std::string& project_key, const std::string& name_or_display,
    storage::AuditEvent audit, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto it = Lookup(project_key, name_or_display);
  if (it == servers_.end()) return NoServer(project_key, name_or_display);
  storage::UnregisterResult r;
  r.server_id = it->second.id;
  r.name = it->second.server.name();
  r.display_name = it->second.server.display_name();
  r.versions_removed = static_cast<uint32_t>(it->second.versions.size());
  audit.server = r.display_name;
  if (absl::Status a = audit_.Append(audit, deadline); !a.ok()) return a;
  servers_.erase(it);
  return r;
}

absl::StatusOr<storage::ServerVersions> FakeServerStore::Get(
    const std::string& project_key, const std::string& name_or_display,
    uint32_t page_size, int64_t before, absl::Time) {
  absl::MutexLock lock(&mu_);
  auto it = Lookup(project_key, name_or_display);
  if (it == servers_.end()) return NoServer(project_key, name_or_display);
  const Stored& s = it->second;
  storage::ServerVersions out;
  out.server = s.server;
  uint32_t room = page_size;
  if (before == 0) {
    for (const auto& v : s.versions) {
      if (v.version() == s.server.latest_version()) {
        *out.server.add_versions() = v;
        --room;
      }
    }
    before = static_cast<int64_t>(s.versions.size()) + 1;
  }
  // Positions are 1-based registration order, as seq in PostgreSQL: the
  // others below `before`, newest first; one more than fits means another
  // page follows, which starts below the last one shown.
  std::vector<int64_t> others;
  for (int64_t seq = before - 1; seq >= 1; --seq) {
    if (s.versions[static_cast<size_t>(seq - 1)].version() !=
        s.server.latest_version()) {
      others.push_back(seq);
    }
  }
  int64_t last = before;
  for (size_t i = 0; i < others.size() && i < room; ++i) {
    *out.server.add_versions() = s.versions[static_cast<size_t>(others[i] - 1)];
    last = others[i];
  }
  if (others.size() > room) out.next_before = last;
  return out;
}

absl::StatusOr<v1::Server> FakeServerStore::GetVersion(
    const std::string& project_key, const std::string& name_or_display,
    const std::string& version, absl::Time) {
  absl::MutexLock lock(&mu_);
  auto it = Lookup(project_key, name_or_display);
  if (it == servers_.end()) return NoServer(project_key, name_or_display);
  const std::string& wanted =
      version.empty() ? it->second.server.latest_version() : version;
  for (const v1::ServerVersion& v : it->second.versions) {
    if (v.version() == wanted) return WithVersion(it->second, v);
  }
  return absl::NotFoundError(
      absl::StrCat("version: ", it->second.server.display_name(),
                   " has no version '", wanted, "'"));
}

absl::StatusOr<std::vector<std::string>> FakeServerStore::RepositoriesOf(
    const std::string& project_key, absl::Time) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> repos;
  for (const auto& [key, s] : servers_) {
    if (key.first == project_key &&
        std::find(repos.begin(), repos.end(), s.server.repo_key()) ==
            repos.end()) {
      repos.push_back(s.server.repo_key());
    }
  }
  std::sort(repos.begin(), repos.end());
  return repos;
}

absl::StatusOr<storage::ServerPage> FakeServerStore::List(
    const std::string& project_key, const std::vector<std::string>& repo_keys,
    const std::string& after_name, uint32_t page_size,
    const std::string& search, absl::Time) {
  absl::MutexLock lock(&mu_);
  storage::ServerPage page;
  const std::string needle = absl::AsciiStrToLower(search);
  for (const auto& [key, s] : servers_) {  // ordered by (project, name)
    if (key.first != project_key || s.server.name() <= after_name ||
        std::find(repo_keys.begin(), repo_keys.end(), s.server.repo_key()) ==
            repo_keys.end()) {
      continue;
    }
    const std::string haystack = absl::AsciiStrToLower(
        absl::StrCat(s.server.name(), " ", s.server.display_name(), " ",
                     s.server.description()));
    if (!needle.empty() && !absl::StrContains(haystack, needle)) continue;
    if (page.servers.size() == page_size) {
      page.last_name = page.servers.back().name();
      break;
    }
    for (const auto& v : s.versions) {
      if (v.version() == s.server.latest_version()) {
        page.servers.push_back(WithVersion(s, v));
      }
    }
  }
  return page;
}

std::optional<FakeServerStore::Identity> FakeServerStore::Find(
    const std::string& project_key, const std::string& name_or_display) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [key, s] : servers_) {
    if (key.first == project_key &&
        (s.server.name() == name_or_display ||
         s.server.display_name() == name_or_display)) {
      return Identity{s.id, s.server.name(), s.server.display_name(),
                      s.server.repo_key(), s.server.package_type()};
    }
  }
  return std::nullopt;
}

bool FakeServerStore::Exists(int64_t id) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [key, s] : servers_) {
    if (s.id == id) return true;
  }
  return false;
}

// --- FakePolicyStore -------------------------------------------------------

absl::StatusOr<storage::ServerPolicy> FakePolicyStore::Load(
    const std::string& project_key, const std::string& name_or_display,
    absl::Time) {
  std::optional<FakeServerStore::Identity> id =
      servers_.Find(project_key, name_or_display);
  if (!id.has_value()) {
    return absl::NotFoundError(absl::StrCat("server: no server named '",
                                            name_or_display, "' in project '",
                                            project_key, "'"));
  }
  storage::ServerPolicy out;
  out.server_id = id->id;
  out.name = id->name;
  out.display_name = id->display_name;
  out.repo_key = id->repo_key;
  out.package_type = id->package_type;
  out.project_key = project_key;
  absl::MutexLock lock(&mu_);
  if (auto it = policies_.find(id->id); it != policies_.end()) {
    out.policy = it->second;
  }
  return out;
}

absl::StatusOr<v1::ToolPolicy> FakePolicyStore::Set(
    const storage::ServerPolicy& server, const v1::ToolPolicy& policy,
    const std::string& actor, const storage::AuditEvent& audit,
    absl::Time deadline) {
  if (!servers_.Exists(server.server_id)) {
    return absl::NotFoundError(
        absl::StrCat("server: ", audit.server, " was unregistered meanwhile"));
  }
  v1::ToolPolicy stored;
  stored.set_mode(policy.mode());
  *stored.mutable_entries() = policy.entries();
  stored.set_project_key(server.project_key);
  stored.set_server(server.name);
  stored.set_display_name(server.display_name);
  *stored.mutable_updated_at() = Now();
  stored.set_updated_by(actor);
  if (absl::Status a = audit_.Append(audit, deadline); !a.ok()) return a;
  absl::MutexLock lock(&mu_);
  policies_[server.server_id] = stored;
  return stored;
}

// --- FakeAccessStore -------------------------------------------------------

absl::StatusOr<std::optional<storage::TokenRecord>> FakeAccessStore::FindToken(
    const std::string& sha256_hex, absl::Time) {
  absl::MutexLock lock(&mu_);
  for (const auto& t : tokens_) {
    if (t.token_sha256 == sha256_hex) return std::optional(t);
  }
  return std::optional<storage::TokenRecord>();
}

absl::StatusOr<bool> FakeAccessStore::HasGrant(const std::string& principal,
                                               const std::string& permission,
                                               const std::string& resource,
                                               absl::Time) {
  absl::MutexLock lock(&mu_);
  for (const auto& g : grants_) {
    if (g.principal == principal &&
        (g.permission == "ADMIN" ||
         (g.permission == permission && g.resource == resource))) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<int64_t> FakeAccessStore::CreateToken(
    const std::string& principal, const std::string& sha256_hex,
    const std::string& description, std::optional<absl::Time> expires_at,
    const storage::AuditEvent& audit, absl::Time deadline) {
  if (absl::Status a = audit_.Append(audit, deadline); !a.ok()) return a;
  absl::MutexLock lock(&mu_);
  storage::TokenRecord t;
  t.id = static_cast<int64_t>(tokens_.size()) + 1;
  t.token_sha256 = sha256_hex;
  t.principal = principal;
  t.description = description;
  t.created_at = absl::Now();
  t.expires_at = expires_at;
  tokens_.push_back(t);
  return t.id;
}

absl::StatusOr<storage::TokenRecord> FakeAccessStore::RevokeToken(
    int64_t id, const storage::AuditEvent& audit, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  for (auto& t : tokens_) {
    if (t.id != id) continue;
    if (t.revoked_at.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("token ", id, " is already revoked"));
    }
    if (absl::Status a = audit_.Append(audit, deadline); !a.ok()) return a;
    t.revoked_at = absl::Now();
    return t;
  }
  return absl::NotFoundError(absl::StrCat("no token with id ", id));
}

absl::StatusOr<std::vector<storage::TokenRecord>> FakeAccessStore::ListTokens(
    const std::string& principal, absl::Time) {
  absl::MutexLock lock(&mu_);
  std::vector<storage::TokenRecord> out;
  for (const auto& t : tokens_) {
    if (principal.empty() || t.principal == principal) out.push_back(t);
  }
  return out;
}

absl::StatusOr<storage::GrantResult> FakeAccessStore::Grant(
    const std::string& principal, const std::string& permission,
    const std::string& resource, const storage::AuditEvent& audit,
    absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  for (const auto& g : grants_) {
    if (g.principal == principal && g.permission == permission &&
        g.resource == resource) {
      return storage::GrantResult{g, false};
    }
  }
  if (absl::Status a = audit_.Append(audit, deadline); !a.ok()) return a;
  grants_.push_back(
      {principal, permission, resource, absl::Now(), audit.actor});
  return storage::GrantResult{grants_.back(), true};
}

absl::Status FakeAccessStore::Revoke(const std::string& principal,
                                     const std::string& permission,
                                     const std::string& resource,
                                     const storage::AuditEvent& audit,
                                     absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  for (auto it = grants_.begin(); it != grants_.end(); ++it) {
    if (it->principal == principal && it->permission == permission &&
        it->resource == resource) {
      if (absl::Status a = audit_.Append(audit, deadline); !a.ok()) return a;
      grants_.erase(it);
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError(absl::StrCat("principal '", principal,
                                          "' holds no ", permission, " on '",
                                          resource, "'"));
}

absl::StatusOr<std::vector<storage::GrantRecord>> FakeAccessStore::ListGrants(
    const std::string& principal, absl::Time) {
  absl::MutexLock lock(&mu_);
  std::vector<storage::GrantRecord> out;
  for (const auto& g : grants_) {
    if (principal.empty() || g.principal == principal) out.push_back(g);
  }
  return out;
}

absl::Status FakeAccessStore::BootstrapAdmin(const std::string& principal,
                                             const std::string& sha256_hex,
                                             const storage::AuditEvent& audit,
                                             absl::Time deadline) {
  if (absl::Status a = audit_.Append(audit, deadline); !a.ok()) return a;
  absl::MutexLock lock(&mu_);
  grants_.push_back({principal, "ADMIN", "", absl::Now(), audit.actor});
  storage::TokenRecord t;
  t.id = static_cast<int64_t>(tokens_.size()) + 1;
  t.token_sha256 = sha256_hex;
  t.principal = principal;
  t.created_at = absl::Now();
  tokens_.push_back(t);
  return absl::OkStatus();
}

absl::StatusOr<bool> FakeAccessStore::AnyPrincipal(absl::Time) {
  absl::MutexLock lock(&mu_);
  return !tokens_.empty() || !grants_.empty();
}

}  // namespace mcpreg::testing

// In-memory stores for handler unit tests: the interfaces of storage/ with
// the semantics of their PostgreSQL implementations (uniqueness, idempotent
// retries, "latest" by version order, paging, audit rows written with the
// change they record) and none of the database. Thread-safe.
#ifndef MCPREG_TESTS_SUPPORT_FAKE_STORES_H_
#define MCPREG_TESTS_SUPPORT_FAKE_STORES_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "storage/access_store.h"
#include "storage/audit_log.h"
#include "storage/policy_store.h"
#include "storage/server_store.h"

namespace mcpreg::testing {

// Every row appended, in order. `fail_with` makes appends fail, as a
// database that cannot take the row would.
class FakeAuditLog : public storage::AuditLog {
 public:
  absl::Status Append(const storage::AuditEvent& event,
                      absl::Time deadline) override;
  void AppendAsync(const storage::AuditEvent& event, Done done) override;
  absl::StatusOr<storage::AuditPage> List(const storage::AuditQuery& query,
                                          absl::Time deadline) override;
  absl::StatusOr<storage::ChainVerdict> Verify(absl::Time deadline) override;

  // What was appended (with the stores' in-transaction rows).
  std::vector<storage::AuditEvent> events() const;
  void set_fail_with(absl::Status status);

 private:
  mutable absl::Mutex mu_;
  std::vector<storage::AuditEvent> events_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_with_ ABSL_GUARDED_BY(mu_);
};

class FakeServerStore : public storage::ServerStore {
 public:
  explicit FakeServerStore(FakeAuditLog& audit) : audit_(audit) {}

  absl::StatusOr<storage::Registered> Register(
      const storage::NewServerVersion& v, const storage::AuditEvent& audit,
      absl::Time deadline) override;
  absl::StatusOr<storage::UnregisterResult> Unregister(
      const std::string& project_key, const std::string& name_or_display,
      storage::AuditEvent audit, absl::Time deadline) override;
  absl::StatusOr<storage::ServerVersions> Get(
      const std::string& project_key, const std::string& name_or_display,
      uint32_t page_size, int64_t before, absl::Time deadline) override;
  absl::StatusOr<v1::Server> GetVersion(const std::string& project_key,
                                        const std::string& name_or_display,
                                        const std::string& version,
                                        absl::Time deadline) override;
  absl::StatusOr<std::vector<std::string>> RepositoriesOf(
      const std::string& project_key, absl::Time deadline) override;
  absl::StatusOr<storage::ServerPage> List(
      const std::string& project_key, const std::vector<std::string>& repo_keys,
      const std::string& after_name, uint32_t page_size,
      const std::string& search, absl::Time deadline) override;

  // For the policy store: the server's id and identity, or nullopt.
  struct Identity {
    int64_t id = 0;
    std::string name, display_name, repo_key, package_type;
  };
  std::optional<Identity> Find(const std::string& project_key,
                               const std::string& name_or_display) const;
  bool Exists(int64_t id) const;

 private:
  struct Stored {
    int64_t id = 0;
    v1::Server server;                        // no versions
    std::vector<v1::ServerVersion> versions;  // in registration order
  };
  // The key of `name_or_display` in `project_key`, or servers_.end().
  std::map<std::pair<std::string, std::string>, Stored>::iterator Lookup(
      const std::string& project_key, const std::string& name_or_display)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static v1::Server WithVersion(const Stored& s, const v1::ServerVersion& v);

  FakeAuditLog& audit_;
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, Stored> servers_
      ABSL_GUARDED_BY(mu_);  // by (project, name)
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

class FakePolicyStore : public storage::PolicyStore {
 public:
  FakePolicyStore(FakeServerStore& servers, FakeAuditLog& audit)
      : servers_(servers), audit_(audit) {}

  absl::StatusOr<storage::ServerPolicy> Load(const std::string& project_key,
                                             const std::string& name_or_display,
                                             absl::Time deadline) override;
  absl::StatusOr<v1::ToolPolicy> Set(const storage::ServerPolicy& server,
                                     const v1::ToolPolicy& policy,
                                     const std::string& actor,
                                     const storage::AuditEvent& audit,
                                     absl::Time deadline) override;

 private:
  FakeServerStore& servers_;
  FakeAuditLog& audit_;
  mutable absl::Mutex mu_;
  std::map<int64_t, v1::ToolPolicy> policies_ ABSL_GUARDED_BY(mu_);
};

class FakeAccessStore : public storage::AccessStore {
 public:
  explicit FakeAccessStore(FakeAuditLog& audit) : audit_(audit) {}

  absl::StatusOr<std::optional<storage::TokenRecord>> FindToken(
      const std::string& sha256_hex, absl::Time deadline) override;
  absl::StatusOr<bool> HasGrant(const std::string& principal,
                                const std::string& permission,
                                const std::string& resource,
                                absl::Time deadline) override;
  absl::StatusOr<int64_t> CreateToken(const std::string& principal,
                                      const std::string& sha256_hex,
                                      const std::string& description,
                                      std::optional<absl::Time> expires_at,
                                      const storage::AuditEvent& audit,
                                      absl::Time deadline) override;
  absl::StatusOr<storage::TokenRecord> RevokeToken(
      int64_t id, const storage::AuditEvent& audit,
      absl::Time deadline) override;
  absl::StatusOr<std::vector<storage::TokenRecord>> ListTokens(
      const std::string& principal, absl::Time deadline) override;
  absl::StatusOr<storage::GrantResult> Grant(const std::string& principal,
                                             const std::string& permission,
                                             const std::string& resource,
                                             const storage::AuditEvent& audit,
                                             absl::Time deadline) override;
  absl::Status Revoke(const std::string& principal,
                      const std::string& permission,
                      const std::string& resource,
                      const storage::AuditEvent& audit,
                      absl::Time deadline) override;
  absl::StatusOr<std::vector<storage::GrantRecord>> ListGrants(
      const std::string& principal, absl::Time deadline) override;
  absl::Status BootstrapAdmin(const std::string& principal,
                              const std::string& sha256_hex,
                              const storage::AuditEvent& audit,
                              absl::Time deadline) override;
  absl::StatusOr<bool> AnyPrincipal(absl::Time deadline) override;

 private:
  FakeAuditLog& audit_;
  mutable absl::Mutex mu_;
  std::vector<storage::TokenRecord> tokens_ ABSL_GUARDED_BY(mu_);
  std::vector<storage::GrantRecord> grants_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mcpreg::testing

#endif  // MCPREG_TESTS_SUPPORT_FAKE_STORES_H_

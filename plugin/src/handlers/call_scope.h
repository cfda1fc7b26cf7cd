// What every registry handler does first: work out the deadline, request id
// and project, identify the caller, and check a permission — auditing each
// refusal, since the audit log records every denial.
#ifndef MCPREG_PLUGIN_SRC_HANDLERS_CALL_SCOPE_H_
#define MCPREG_PLUGIN_SRC_HANDLERS_CALL_SCOPE_H_

#include <string>

#include "absl/status/statusor.h"
#include "authz/authorizer.h"
#include "plugin/sdk/call_context.h"
#include "plugin/sdk/host_log.h"
#include "plugin/src/registry_dependencies.h"

namespace mcpreg {

// What a caller is told of a failed call's `status`: the database's own
// words (host names, addresses, paths; storage/pg/pg_status.h) go to the
// host's log under the call's request id, and the message carries the id
// instead, so an operator can find them.
absl::Status ForCaller(const absl::Status& status,
                       const std::string& request_id, const sdk::HostLog& log);

class CallScope {
 public:
  CallScope(RegistryDependencies& deps, const sdk::CallContext& ctx,
            std::string action);

  absl::Time deadline() const { return deadline_; }
  const std::string& request_id() const { return request_id_; }
  const authz::Metadata& metadata() const { return ctx_.metadata(); }

  // The project from the request, or the "jfrog-project-key" header.
  std::string ProjectKey(const std::string& from_request) const;

  // The caller; an unauthenticated call is audited as a denial.
  absl::StatusOr<authz::Principal> Authenticate(const std::string& project_key,
                                                const std::string& server);
  // Authenticate, then Require ALLOW on `project_key`: what every call that
  // changes or reads a whole project starts with.
  absl::StatusOr<authz::Principal> AuthenticateWithAllow(
      const std::string& project_key, const std::string& server);
  // Authenticate, then Require ADMIN: the registry-wide administration.
  absl::StatusOr<authz::Principal> AuthenticateAdmin();
  // OK or the refusal (audited). `server` and `project_key` go in the audit.
  absl::Status Require(const authz::Principal& principal,
                       authz::Permission permission,
                       const std::string& resource,
                       const std::string& project_key,
                       const std::string& server);

  // An audit event for this call, decision ALLOW, to fill in and append.
  storage::AuditEvent Audit(const authz::Principal& principal,
                            const std::string& project_key,
                            const std::string& server) const;

 private:
  absl::StatusOr<authz::Principal> AuthenticateAndRequire(
      authz::Permission permission, const std::string& resource,
      const std::string& project_key, const std::string& server);
  void AuditDenial(const std::string& actor, const std::string& project_key,
                   const std::string& server, const absl::Status& why);

  RegistryDependencies& deps_;
  const sdk::CallContext& ctx_;
  std::string action_;
  absl::Time deadline_;
  std::string request_id_;
};

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_HANDLERS_CALL_SCOPE_H_

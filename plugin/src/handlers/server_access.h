// The first steps of every per-server governance call: validate project and
// server, identify the caller, find the server (through the policy cache)
// and require READ on its repository. Refusals are audited by CallScope.
#ifndef MCPREG_PLUGIN_SRC_HANDLERS_SERVER_ACCESS_H_
#define MCPREG_PLUGIN_SRC_HANDLERS_SERVER_ACCESS_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "authz/authorizer.h"
#include "plugin/src/governance/policy_cache.h"
#include "plugin/src/handlers/call_scope.h"

namespace mcpreg {

// True when `s` holds a byte below 0x20 or 0x7F (NUL included).
inline bool HasControlCharacter(absl::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return true;
  }
  return false;
}

// A tool name in a request: present, at most policy::kMaxToolNameBytes, no
// control characters. Errors start with `field`.
absl::Status CheckToolName(const std::string& tool, absl::string_view field);

struct ServerAccess {
  std::string project_key;
  authz::Principal principal;
  std::shared_ptr<const CachedServerPolicy> server;
};

// `server_field` names the request field in errors ("server", "policy.server").
// A server the caller may not read is NOT_FOUND with the same message as one
// that does not exist (UnknownServer): no existence oracle. ALLOW, which is
// on the project, is checked before the server is looked up.
absl::StatusOr<ServerAccess> OpenServerForCaller(
    RegistryDependencies& deps, CallScope& scope,
    const std::string& request_project, const std::string& server,
    absl::string_view project_field, absl::string_view server_field,
    authz::Permission permission);

// What a caller is told about a server that does not exist or that it may
// not read.
absl::Status UnknownServer(const std::string& project_key,
                           const std::string& server,
                           absl::string_view server_field);

// The same access from the caches alone, without blocking, for a handler on
// the host's I/O thread: nullopt unless the request is valid and the caller,
// the server and the caller's permission are all cached — anything else
// (including every refusal, which is audited with a write) is for
// OpenServerForCaller on a worker.
std::optional<ServerAccess> OpenServerFromCaches(
    RegistryDependencies& deps, const CallScope& scope,
    const std::string& request_project, const std::string& server,
    authz::Permission permission);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_HANDLERS_SERVER_ACCESS_H_

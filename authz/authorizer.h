// Who is calling, and may they? The registry asks through this interface;
// two backends answer: the registry's own grants (builtin_authorizer.h) or the
// host's own access service through the ABI's authorize slot
// (host_authorizer.h).
#ifndef MCPREG_AUTHZ_AUTHORIZER_H_
#define MCPREG_AUTHZ_AUTHORIZER_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mcpreg::authz {

enum class Permission {
  kAllow,  // ALLOW on a project's AI catalog; resource = project key
  kRead,   // READ on a repository; resource = repository key
  kAdmin,  // the platform administrator role; resource = ""
  // DEPLOY on a repository: publish packages into it (npm publish, twine
  // upload); resource = repository key. Held by grant or through ADMIN.
  kDeploy,
};

// "ALLOW", "READ", "ADMIN", "DEPLOY" (as stored in grants and shown to users).
absl::string_view PermissionName(Permission p);

// Request headers, lower-case keys.
using Metadata = std::vector<std::pair<std::string, std::string>>;

struct Principal {
  std::string name;
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;

  // UNAUTHENTICATED when the call carries no valid credentials (missing,
  // unknown, expired or revoked token); UNAVAILABLE when the backend is down.
  virtual absl::StatusOr<Principal> Authenticate(const Metadata& metadata,
                                                 absl::Time deadline) = 0;

  // OK, or PERMISSION_DENIED naming the principal, the permission and the
  // resource; UNAVAILABLE when the backend is down.
  virtual absl::Status Require(const Principal& principal,
                               const Metadata& metadata, Permission permission,
                               const std::string& resource,
                               absl::Time deadline) = 0;

  // The same answers from what the backend has cached, for a caller that
  // must not block (a handler on the host's I/O thread): the principal, or
  // true for a permission held. nullopt and false mean "not known without
  // asking", never a refusal: the caller then asks the blocking way, which
  // also gives refusals their wording and their audit row. They run inside
  // the host's `call`, so they must not call the host's optional slots
  // either (plugin-abi.md promises that never happens there).
  virtual std::optional<Principal> CachedPrincipal(
      const Metadata& /*metadata*/) {
    return std::nullopt;
  }
  virtual bool CachedHolds(const Principal& /*principal*/,
                           Permission /*permission*/,
                           const std::string& /*resource*/) {
    return false;
  }
};

// The message every backend uses for a refusal, so users see one wording:
// "principal 'ci-bot' lacks ALLOW on the AI catalog of project 'ai-research'".
absl::Status DeniedError(const Principal& principal, Permission permission,
                         absl::string_view resource);

}  // namespace mcpreg::authz

#endif  // MCPREG_AUTHZ_AUTHORIZER_H_

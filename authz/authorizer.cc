#include "authz/authorizer.h"

#include "absl/strings/str_cat.h"

namespace mcpreg::authz {

absl::string_view PermissionName(Permission p) {
  switch (p) {
    case Permission::kAllow:
      return "ALLOW";
    case Permission::kRead:
      return "READ";
    case Permission::kAdmin:
      return "ADMIN";
    case Permission::kDeploy:
      return "DEPLOY";
  }
  return "?";
}

absl::Status DeniedError(const Principal& principal, Permission permission,
                         absl::string_view resource) {
  switch (permission) {
    case Permission::kAllow:
      return absl::PermissionDeniedError(absl::StrCat(
          "principal '", principal.name,
          "' lacks ALLOW on the AI catalog of project '", resource, "'"));
    case Permission::kRead:
      return absl::PermissionDeniedError(
          absl::StrCat("principal '", principal.name,
                       "' lacks READ on repository '", resource, "'"));
    case Permission::kAdmin:
      return absl::PermissionDeniedError(absl::StrCat(
          "principal '", principal.name, "' lacks the ADMIN role"));
    case Permission::kDeploy:
      return absl::PermissionDeniedError(
          absl::StrCat("principal '", principal.name,
                       "' lacks DEPLOY on repository '", resource, "'"));
  }
  return absl::PermissionDeniedError("denied");
}

}  // namespace mcpreg::authz

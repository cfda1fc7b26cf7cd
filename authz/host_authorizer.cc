#include "authz/host_authorizer.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace mcpreg::authz {

bool HostHasAuthorizer(const mcpreg_host_api* host) {
  return host != nullptr &&
         MCPREG_ABI_HAS_FIELD(mcpreg_host_api, authorize, host->struct_size) &&
         host->authorize != nullptr;
}

absl::StatusOr<int32_t> HostAuthorizer::Ask(const Metadata& metadata,
                                            int32_t permission,
                                            const std::string& resource,
                                            std::string* principal) {
  std::vector<mcpreg_metadata_entry> entries;
  entries.reserve(metadata.size());
  for (const auto& [k, v] : metadata) {
    entries.push_back({{k.data(), k.size()},
                       {reinterpret_cast<const uint8_t*>(v.data()), v.size()}});
  }
  mcpreg_authz_request request{};
  request.struct_size = sizeof(request);
  request.metadata = entries.data();
  request.metadata_count = entries.size();
  request.permission = permission;
  request.resource = {resource.data(), resource.size()};
  mcpreg_authz_result result{};
  result.struct_size = sizeof(result);
  const int32_t code =
      host_->authorize(host_->host_ctx_host_ptr, &request, &result);
  if (code != MCPREG_STATUS_OK) {
    return absl::UnavailableError(absl::StrCat(
        "the host's access service failed (status ", code, "); retry later"));
  }
  result.principal[MCPREG_PRINCIPAL_CAPACITY - 1] = '\0';
  *principal = result.principal;
  return result.decision;
}

absl::StatusOr<Principal> HostAuthorizer::Authenticate(const Metadata& metadata,
                                                       absl::Time) {
  std::string name;
  auto decision = Ask(metadata, MCPREG_PERMISSION_IDENTIFY, "", &name);
  if (!decision.ok()) return decision.status();
  if (*decision != MCPREG_AUTHZ_ALLOW || name.empty()) {
    return absl::UnauthenticatedError(
        "the host's access service does not recognise the caller");
  }
  return Principal{name};
}

absl::Status HostAuthorizer::Require(const Principal& principal,
                                     const Metadata& metadata,
                                     Permission permission,
                                     const std::string& resource, absl::Time) {
  // The ABI has no DEPLOY: a platform with its own repositories checks its
  // own publishing. Asked here (never, while the package endpoints need the
  // built-in backend), it would take the administrator role.
  int32_t abi_permission = MCPREG_PERMISSION_ADMIN;
  if (permission == Permission::kAllow)
    abi_permission = MCPREG_PERMISSION_ALLOW;
  if (permission == Permission::kRead) abi_permission = MCPREG_PERMISSION_READ;
  std::string name;
  auto decision = Ask(metadata, abi_permission,
                      permission == Permission::kAdmin ? "" : resource, &name);
  if (!decision.ok()) return decision.status();
  if (*decision == MCPREG_AUTHZ_UNAUTHENTICATED) {
    return absl::UnauthenticatedError(
        "the host's access service does not recognise the caller");
  }
  if (*decision != MCPREG_AUTHZ_ALLOW) {
    return DeniedError(principal, permission, resource);
  }
  return absl::OkStatus();
}

}  // namespace mcpreg::authz

// McpRegistryAdmin: repositories, tokens and grants. Every call needs the
// ADMIN role; every change is audited.
#ifndef MCPREG_PLUGIN_SRC_HANDLERS_ADMIN_HANDLERS_H_
#define MCPREG_PLUGIN_SRC_HANDLERS_ADMIN_HANDLERS_H_

#include "absl/status/statusor.h"
#include "mcpreg/v1/admin.pb.h"
#include "plugin/sdk/call_context.h"
#include "plugin/src/registry_dependencies.h"

namespace mcpreg {

absl::StatusOr<v1::Repository> HandleCreateRepository(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::CreateRepositoryRequest& request);
absl::StatusOr<v1::ListRepositoriesResponse> HandleListRepositories(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::ListRepositoriesRequest& request);
absl::StatusOr<v1::CreateTokenResponse> HandleCreateToken(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::CreateTokenRequest& request);
absl::StatusOr<v1::RevokeTokenResponse> HandleRevokeToken(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::RevokeTokenRequest& request);
absl::StatusOr<v1::ListTokensResponse> HandleListTokens(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::ListTokensRequest& request);
absl::StatusOr<v1::GrantPermissionResponse> HandleGrantPermission(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::GrantPermissionRequest& request);
absl::StatusOr<v1::RevokePermissionResponse> HandleRevokePermission(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::RevokePermissionRequest& request);
absl::StatusOr<v1::ListGrantsResponse> HandleListGrants(
    RegistryDependencies& s, const sdk::CallContext& ctx,
    const v1::ListGrantsRequest& request);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_HANDLERS_ADMIN_HANDLERS_H_

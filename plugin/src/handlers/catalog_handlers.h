// What a person choosing where to register from needs (the web UI's
// register pane): their projects, a project's repositories, a repository's
// files and what a package says of itself. Each checks the caller like every
// other call, and shows only what the caller may read.
#ifndef MCPREG_PLUGIN_SRC_HANDLERS_CATALOG_HANDLERS_H_
#define MCPREG_PLUGIN_SRC_HANDLERS_CATALOG_HANDLERS_H_

#include "absl/status/statusor.h"
#include "mcpreg/v1/registry.pb.h"
#include "plugin/sdk/call_context.h"
#include "plugin/src/registry_dependencies.h"

namespace mcpreg {

absl::StatusOr<v1::ListMyProjectsResponse> HandleListMyProjects(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ListMyProjectsRequest& request);
absl::StatusOr<v1::ListProjectRepositoriesResponse>
HandleListProjectRepositories(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ListProjectRepositoriesRequest& request);
absl::StatusOr<v1::ListRepositoryFilesResponse> HandleListRepositoryFiles(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ListRepositoryFilesRequest& request);
absl::StatusOr<v1::DescribePackageResponse> HandleDescribePackage(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::DescribePackageRequest& request);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_HANDLERS_CATALOG_HANDLERS_H_

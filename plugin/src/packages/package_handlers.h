// The reference platform's npm and PyPI endpoints (mcpreg.v1.
// PackageRepositories): what `npm publish`, `npm install`, `twine upload`
// and `pip download` talk to. Layout, permissions and limits:
// docs/repositories.md.
#ifndef MCPREG_PLUGIN_SRC_PACKAGES_PACKAGE_HANDLERS_H_
#define MCPREG_PLUGIN_SRC_PACKAGES_PACKAGE_HANDLERS_H_

#include "absl/status/statusor.h"
#include "google/api/httpbody.pb.h"
#include "mcpreg/v1/packages.pb.h"
#include "plugin/sdk/call_context.h"
#include "plugin/src/registry_dependencies.h"

namespace mcpreg {

absl::StatusOr<google::api::HttpBody> HandleNpmGet(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::PackageRequest& request);
absl::StatusOr<google::api::HttpBody> HandleNpmPublish(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::PackageRequest& request);
absl::StatusOr<google::api::HttpBody> HandlePypiGet(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::PackageRequest& request);
absl::StatusOr<google::api::HttpBody> HandlePypiUpload(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::PackageRequest& request);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_PACKAGES_PACKAGE_HANDLERS_H_

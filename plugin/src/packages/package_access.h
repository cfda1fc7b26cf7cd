// Who may read from or publish into a package repository, and whether the
// repository is one these endpoints serve: local, of the endpoint's type.
#ifndef MCPREG_PLUGIN_SRC_PACKAGES_PACKAGE_ACCESS_H_
#define MCPREG_PLUGIN_SRC_PACKAGES_PACKAGE_ACCESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "plugin/sdk/call_context.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/registry_dependencies.h"
#include "storage/repo/repository_store.h"

namespace mcpreg {

// The repository, once the caller may `permission` (kRead or kDeploy) on
// it. A read without credentials passes when the repository allows
// anonymous reads; otherwise UNAUTHENTICATED before anything is said about
// the repository, then NOT_FOUND, PERMISSION_DENIED (audited), and
// FAILED_PRECONDITION when it is not a local `package_type` repository.
// `principal` is "anonymous" for an anonymous read.
absl::StatusOr<storage::RepositoryInfo> OpenPackageRepository(
    RegistryDependencies& deps, CallScope& scope, const std::string& repo_key,
    const std::string& package_type, authz::Permission permission,
    std::string* principal);

// The base of URLs handed to clients (tarballs, files): packageBaseUrl when
// configured, else "http://" + the request's Host header.
std::string PackageBaseUrl(const RegistryDependencies& deps,
                           const sdk::CallContext& ctx);

// The audit row of a publish: action "package.publish", the repository and
// path in its details.
void AuditPublish(RegistryDependencies& deps, const CallScope& scope,
                  const std::string& principal,
                  const storage::RepositoryInfo& repo, const std::string& path,
                  const std::string& sha256);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_PACKAGES_PACKAGE_ACCESS_H_

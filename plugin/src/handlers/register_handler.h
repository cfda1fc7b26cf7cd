// RegisterCustomServer: validate, authorize, check the repository and the
// artifact, read the package's own manifest, store the version.
#ifndef MCPREG_PLUGIN_SRC_HANDLERS_REGISTER_HANDLER_H_
#define MCPREG_PLUGIN_SRC_HANDLERS_REGISTER_HANDLER_H_

#include "absl/status/statusor.h"
#include "mcpreg/v1/registry.pb.h"
#include "plugin/sdk/call_context.h"
#include "plugin/src/registry_dependencies.h"

namespace mcpreg {

absl::StatusOr<v1::RegisterCustomServerResponse> HandleRegisterCustomServer(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::RegisterCustomServerRequest& request);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_HANDLERS_REGISTER_HANDLER_H_

// UnregisterCustomServer, GetServer and ListServers.
#ifndef MCPREG_PLUGIN_SRC_HANDLERS_SERVER_HANDLERS_H_
#define MCPREG_PLUGIN_SRC_HANDLERS_SERVER_HANDLERS_H_

#include "absl/status/statusor.h"
#include "mcpreg/v1/registry.pb.h"
#include "plugin/sdk/call_context.h"
#include "plugin/src/registry_dependencies.h"

namespace mcpreg {

absl::StatusOr<v1::UnregisterCustomServerResponse> HandleUnregisterCustomServer(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::UnregisterCustomServerRequest& request);

absl::StatusOr<v1::Server> HandleGetServer(RegistryDependencies& deps,
                                           const sdk::CallContext& ctx,
                                           const v1::GetServerRequest& request);

absl::StatusOr<v1::ListServersResponse> HandleListServers(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::ListServersRequest& request);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_HANDLERS_SERVER_HANDLERS_H_

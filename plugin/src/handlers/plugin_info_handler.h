// GetPluginInfo: who this plugin is. No credentials needed.
#ifndef MCPREG_PLUGIN_SRC_HANDLERS_PLUGIN_INFO_HANDLER_H_
#define MCPREG_PLUGIN_SRC_HANDLERS_PLUGIN_INFO_HANDLER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mcpreg/v1/registry.pb.h"
#include "sdk/call_context.h"

namespace mcpreg {

absl::StatusOr<v1::PluginInfo> HandleGetPluginInfo(
    const std::vector<std::string>& methods, const sdk::CallContext& ctx,
    const v1::GetPluginInfoRequest& request);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_HANDLERS_PLUGIN_INFO_HANDLER_H_

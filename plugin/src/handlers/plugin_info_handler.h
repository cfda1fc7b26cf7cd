// GetPluginInfo: who this plugin is. No credentials needed. The answer is
// fixed for an instance's life, so it is built once (RegistryInstance).
#ifndef MCPREG_PLUGIN_SRC_HANDLERS_PLUGIN_INFO_HANDLER_H_
#define MCPREG_PLUGIN_SRC_HANDLERS_PLUGIN_INFO_HANDLER_H_

#include <string>
#include <vector>

#include "mcpreg/v1/registry.pb.h"

namespace mcpreg {

// `methods`: the fully-qualified methods the instance serves.
v1::PluginInfo BuildPluginInfo(const std::vector<std::string>& methods);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_HANDLERS_PLUGIN_INFO_HANDLER_H_

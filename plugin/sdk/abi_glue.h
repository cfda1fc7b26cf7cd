// Turns a C++ PluginInstance factory into the C function table of
// plugin_abi.h. Every extern "C" function here catches everything: no C++
// exception crosses the ABI.
#ifndef MCPREG_PLUGIN_SDK_ABI_GLUE_H_
#define MCPREG_PLUGIN_SDK_ABI_GLUE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mcpreg/plugin_abi.h"
#include "plugin/sdk/plugin_instance.h"

namespace mcpreg::sdk {

using InstanceFactory = absl::StatusOr<std::unique_ptr<PluginInstance>> (*)(
    const mcpreg_host_api* host, absl::string_view config_json);

// The descriptor a plugin's entry function returns. Call it once, from the
// entry function, keeping the result in a function-local static: each plugin
// .so has its own copy of this library, so one factory per process image.
const mcpreg_plugin_descriptor* MakePluginDescriptor(const char* name,
                                                     const char* version,
                                                     InstanceFactory factory);

}  // namespace mcpreg::sdk

#endif  // MCPREG_PLUGIN_SDK_ABI_GLUE_H_

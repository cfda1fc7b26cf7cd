// mcpreg-host's settings: a JSON file (HostConfig in
// proto/mcpreg/config/v1/host_config.proto) with defaults filled in.
#ifndef MCPREG_HOST_HOST_CONFIG_H_
#define MCPREG_HOST_HOST_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mcpreg/config/v1/host_config.pb.h"

namespace mcpreg::host {

// Parses `json` (empty = {}); unknown keys and bad JSON are INVALID_ARGUMENT
// naming `source`. Defaults are filled in.
absl::StatusOr<config::v1::HostConfig> ParseHostConfig(
    absl::string_view json, absl::string_view source);

// Reads and parses the file at `path`.
absl::StatusOr<config::v1::HostConfig> LoadHostConfig(const std::string& path);

// Fills unset keys with their defaults. `executable_dir` locates the plugin
// installed beside the host (../lib/libmcpreg.so).
void ApplyHostDefaults(config::v1::HostConfig& config,
                       const std::string& executable_dir);

// The plugin_config object as the JSON text handed to the plugin's create.
std::string PluginConfigJson(const config::v1::HostConfig& config);

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_HOST_CONFIG_H_

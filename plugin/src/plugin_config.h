// Parses and checks the JSON settings a host gives libmcpreg.so's create.
#ifndef MCPREG_PLUGIN_SRC_PLUGIN_CONFIG_H_
#define MCPREG_PLUGIN_SRC_PLUGIN_CONFIG_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mcpreg/config/v1/plugin_config.pb.h"

namespace mcpreg {

// An empty string is an empty object. Unknown keys, malformed JSON and
// out-of-range values are INVALID_ARGUMENT naming the key. Defaults are
// filled in, so the result holds the values in force.
absl::StatusOr<config::v1::PluginConfig> ParsePluginConfig(
    absl::string_view json);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_PLUGIN_CONFIG_H_

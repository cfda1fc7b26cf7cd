#include "host/host_config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace mcpreg::host {

absl::StatusOr<config::v1::HostConfig> ParseHostConfig(
    absl::string_view json, absl::string_view source) {
  config::v1::HostConfig config;
  if (json.find_first_not_of(" \t\r\n") == absl::string_view::npos) {
    return config;
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &config,
      options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", std::string(status.message())));
  }
  return config;
}

absl::StatusOr<config::v1::HostConfig> LoadHostConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseHostConfig(text.str(), path);
}

void ApplyHostDefaults(config::v1::HostConfig& config,
                       const std::string& executable_dir) {
  if (config.plugin_path().empty()) {
    config.set_plugin_path(
        absl::StrCat(executable_dir, "/../lib/libmcpreg.so"));
  }
  if (config.grpc_listen().empty()) config.set_grpc_listen("127.0.0.1:7443");
  if (config.drain_timeout_ms() == 0) config.set_drain_timeout_ms(10000);
  if (config.max_call_timeout_ms() == 0) config.set_max_call_timeout_ms(30000);
  if (config.max_request_bytes() == 0) {
    config.set_max_request_bytes(4 * 1024 * 1024);
  }
  config::v1::RestLimits& rest = *config.mutable_rest_limits();
  if (rest.max_connections() == 0) rest.set_max_connections(256);
  if (rest.max_header_count() == 0) rest.set_max_header_count(100);
  if (rest.max_header_bytes() == 0) rest.set_max_header_bytes(32 * 1024);
  if (rest.header_timeout_ms() == 0) rest.set_header_timeout_ms(10000);
  if (rest.body_timeout_ms() == 0) rest.set_body_timeout_ms(30000);
  if (rest.idle_timeout_ms() == 0) rest.set_idle_timeout_ms(5000);
}

std::string PluginConfigJson(const config::v1::HostConfig& config) {
  if (!config.has_plugin_config()) return "{}";
  std::string json;
  // A Struct always converts.
  (void)google::protobuf::util::MessageToJsonString(config.plugin_config(),
                                                    &json);
  return json;
}

}  // namespace mcpreg::host

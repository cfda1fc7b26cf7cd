#include "plugin/src/plugin_config.h"

#include <algorithm>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace mcpreg {

absl::StatusOr<config::v1::PluginConfig> ParsePluginConfig(
    absl::string_view json) {
  config::v1::PluginConfig config;
  if (!json.empty()) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(json.data(), json.size()), &config,
        options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("plugin config: ", std::string(status.message())));
    }
  }
  if (config.worker_threads() > 1024) {
    return absl::InvalidArgumentError(
        "plugin config: workerThreads must be at most 1024");
  }
  if (config.database().max_connections() == 1) {
    return absl::InvalidArgumentError(
        "plugin config: database.maxConnections must be at least 2 (the audit "
        "writer keeps one connection for itself)");
  }
  if (config.worker_threads() == 0) {
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    config.set_worker_threads(std::max(16u, 8 * cores));
  }
  if (config.max_queued_calls() == 0) config.set_max_queued_calls(4096);
  if (config.registry_address().empty()) {
    config.set_registry_address("127.0.0.1:7443");
  }
  if (config.guard_command().empty()) config.set_guard_command("mcpreg");
  return config;
}

}  // namespace mcpreg

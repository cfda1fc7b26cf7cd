#include "registry_instance.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.pb.h"
#include "handlers/health_handler.h"
#include "handlers/plugin_info_handler.h"
#include "mcpreg/v1/registry.pb.h"

namespace mcpreg {
namespace {

sdk::InstanceOptions ToOptions(const config::v1::PluginConfig& config) {
  sdk::InstanceOptions options;
  options.worker_threads = config.worker_threads();
  options.max_queued_calls = config.max_queued_calls();
  return options;
}

}  // namespace

absl::StatusOr<std::unique_ptr<sdk::PluginInstance>> RegistryInstance::Create(
    const mcpreg_host_api* host, absl::string_view config_json) {
  absl::StatusOr<config::v1::PluginConfig> config =
      ParsePluginConfig(config_json);
  if (!config.ok()) return config.status();
  std::unique_ptr<RegistryInstance> instance(
      new RegistryInstance(host, *config));
  instance->AddHandlers();
  instance->log().Info(absl::StrCat(
      "mcpreg instance ready: ", config->worker_threads(), " workers"));
  return instance;
}

RegistryInstance::RegistryInstance(const mcpreg_host_api* host,
                                   const config::v1::PluginConfig& config)
    : sdk::PluginInstance(host, ToOptions(config)), config_(config) {}

void RegistryInstance::AddHandlers() {
  using grpc::health::v1::HealthCheckRequest;
  using grpc::health::v1::HealthCheckResponse;

  // Services come from the generated files' descriptors: the plugin links
  // messages only, not gRPC stubs.
  const auto* registry =
      v1::GetPluginInfoRequest::descriptor()->file()->FindServiceByName(
          "McpRegistry");
  const auto* health = grpc::health::v1::HealthCheckRequest::descriptor()
                           ->file()
                           ->FindServiceByName("Health");

  AddMethod<v1::GetPluginInfoRequest, v1::PluginInfo>(
      registry->FindMethodByName("GetPluginInfo"),
      [this](const sdk::CallContext& ctx,
             const v1::GetPluginInfoRequest& request) {
        return HandleGetPluginInfo(MethodNames(), ctx, request);
      });

  const std::vector<std::string> services = {registry->full_name(),
                                             health->full_name()};
  AddMethod<HealthCheckRequest, HealthCheckResponse>(
      health->FindMethodByName("Check"),
      [services](const sdk::CallContext& ctx,
                 const HealthCheckRequest& request) {
        return HandleHealthCheck(services, ctx, request);
      });
}

}  // namespace mcpreg

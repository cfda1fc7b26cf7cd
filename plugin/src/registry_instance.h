// One libmcpreg.so instance: wires the registry's handlers into the SDK's
// method table, each bound to the dependencies built from the config.
#ifndef MCPREG_PLUGIN_SRC_REGISTRY_INSTANCE_H_
#define MCPREG_PLUGIN_SRC_REGISTRY_INSTANCE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mcpreg/config/v1/plugin_config.pb.h"
#include "plugin/sdk/plugin_instance.h"
#include "plugin/src/plugin_config.h"
#include "plugin/src/registry_runtime.h"

namespace mcpreg {

class RegistryInstance : public sdk::PluginInstance {
 public:
  static absl::StatusOr<std::unique_ptr<sdk::PluginInstance>> Create(
      const mcpreg_host_api* host, absl::string_view config_json);

  ~RegistryInstance() override { Shutdown(); }

 private:
  RegistryInstance(const mcpreg_host_api* host,
                   const config::v1::PluginConfig& config);
  void AddHandlers();
  void AddRegistryHandlers();
  void AddAdminHandlers();
  void AddPackageHandlers();

  config::v1::PluginConfig config_;
  // GetPluginInfo's answer, serialized once every method is registered.
  std::string plugin_info_;
  // Null without a database: only GetPluginInfo and health are served then.
  std::unique_ptr<RegistryRuntime> runtime_;
};

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_REGISTRY_INSTANCE_H_

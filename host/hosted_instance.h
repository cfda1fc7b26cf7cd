// HostedInstance: one created plugin instance as the host holds it (the
// plugin side's C++ base is sdk::PluginInstance): the host callback table it
// was given, what it serves (methods and descriptors), and its C functions.
#ifndef MCPREG_HOST_HOSTED_INSTANCE_H_
#define MCPREG_HOST_HOSTED_INSTANCE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "host/plugin_loader.h"
#include "mcpreg/plugin_abi.h"

namespace mcpreg::host {

class HostedInstance {
 public:
  // Calls the plugin's create with `config_json`; a failure carries the
  // plugin's own message. `plugin` must outlive the instance.
  static absl::StatusOr<std::unique_ptr<HostedInstance>> Create(
      const LoadedPlugin& plugin, const std::string& config_json);

  // Calls the plugin's destroy, which completes every call still open.
  ~HostedInstance();

  HostedInstance(const HostedInstance&) = delete;
  HostedInstance& operator=(const HostedInstance&) = delete;

  bool Serves(absl::string_view method) const {
    return methods_.contains(method);
  }
  const std::vector<std::string>& methods() const { return method_list_; }
  // Serialized google.protobuf.FileDescriptorSet the plugin described.
  const std::string& file_descriptor_set() const {
    return file_descriptor_set_;
  }
  const std::string& plugin_label() const { return label_; }

  // Thin forwards to the plugin's function table (see plugin_abi.h).
  int32_t Call(const mcpreg_call_info& info, mcpreg_bytes request,
               mcpreg_completion_fn complete, void* call_ctx) const {
    return api_->call(instance_, &info, request, complete, call_ctx);
  }
  void Cancel(void* call_ctx) const { api_->cancel(instance_, call_ctx); }

 private:
  explicit HostedInstance(const LoadedPlugin& plugin);
  absl::Status Describe();

  const mcpreg_plugin_api* api_;
  std::string label_;
  mcpreg_host_api host_api_{};
  mcpreg_instance* instance_ = nullptr;
  std::vector<std::string> method_list_;
  absl::flat_hash_set<std::string> methods_;
  std::string file_descriptor_set_;
};

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_HOSTED_INSTANCE_H_

// Loads a plugin shared object and negotiates the ABI: the host refuses a
// plugin of another major, or of a newer minor, with a message that names both
// versions and the file.
#ifndef MCPREG_HOST_PLUGIN_LOADER_H_
#define MCPREG_HOST_PLUGIN_LOADER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mcpreg/plugin_abi.h"

namespace mcpreg::host {

// Checks a descriptor the entry function returned. Pure, for unit tests:
// `path` is only used in messages. On success the descriptor's api table holds
// every function ABI 1.0 requires.
absl::Status CheckPluginDescriptor(const mcpreg_plugin_descriptor* descriptor,
                                   absl::string_view path);

class LoadedPlugin {
 public:
  // dlopens `path` (RTLD_NOW | RTLD_LOCAL) and checks its descriptor.
  // FAILED_PRECONDITION for an ABI mismatch, NOT_FOUND for a missing file or
  // entry symbol, INVALID_ARGUMENT for a malformed descriptor.
  static absl::StatusOr<LoadedPlugin> Open(const std::string& path);

  LoadedPlugin(LoadedPlugin&& other) noexcept;
  LoadedPlugin& operator=(LoadedPlugin&&) = delete;
  // Deliberately does not dlclose: threads the plugin started, or completions
  // it still owes, may run its code until the process exits.
  ~LoadedPlugin() = default;

  const mcpreg_plugin_descriptor& descriptor() const { return *descriptor_; }
  const mcpreg_plugin_api& api() const { return *descriptor_->api; }
  const std::string& path() const { return path_; }

 private:
  LoadedPlugin(std::string path, void* handle,
               const mcpreg_plugin_descriptor* descriptor)
      : path_(std::move(path)), handle_(handle), descriptor_(descriptor) {}

  std::string path_;
  void* handle_;
  const mcpreg_plugin_descriptor* descriptor_;
};

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_PLUGIN_LOADER_H_

#include "host/plugin_loader.h"

#include <dlfcn.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace mcpreg::host {
namespace {

// Every function slot ABI 1.0 defines; all are required.
absl::Status CheckApiTable(const mcpreg_plugin_api* api,
                           absl::string_view path) {
  if (api == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": plugin descriptor has no function table"));
  }
  if (!MCPREG_ABI_HAS_FIELD(mcpreg_plugin_api, cancel, api->struct_size)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": plugin function table is ", api->struct_size,
        " bytes, smaller than ABI 1.0's ", sizeof(mcpreg_plugin_api),
        " — rebuild the plugin against plugin_abi.h"));
  }
  struct Slot {
    const char* name;
    bool present;
  };
  const Slot slots[] = {
      {"create", api->create != nullptr},
      {"destroy", api->destroy != nullptr},
      {"free_string", api->free_string != nullptr},
      {"describe", api->describe != nullptr},
      {"call", api->call != nullptr},
      {"cancel", api->cancel != nullptr},
  };
  for (const Slot& slot : slots) {
    if (!slot.present) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": plugin function table has no '", slot.name, "' function"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckPluginDescriptor(const mcpreg_plugin_descriptor* descriptor,
                                   absl::string_view path) {
  if (descriptor == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", MCPREG_PLUGIN_ENTRY_SYMBOL, " returned NULL"));
  }
  // Only the version fields may be read before the size is known to cover
  // them; they are the first three fields in every ABI major.
  if (!MCPREG_ABI_HAS_FIELD(mcpreg_plugin_descriptor, abi_minor,
                            descriptor->struct_size)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": plugin descriptor is ", descriptor->struct_size,
                     " bytes, too small to hold an ABI version"));
  }
  const uint32_t major = descriptor->abi_major;
  const uint32_t minor = descriptor->abi_minor;
  if (major != MCPREG_ABI_MAJOR) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " was built for plugin ABI ", major, ".", minor,
        ", this host speaks ", MCPREG_ABI_MAJOR, ".", MCPREG_ABI_MINOR,
        " — rebuild the plugin against this host's plugin_abi.h"));
  }
  if (minor > MCPREG_ABI_MINOR) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " was built for plugin ABI ", major, ".", minor,
                     ", this host speaks ", MCPREG_ABI_MAJOR, ".",
                     MCPREG_ABI_MINOR, " and lacks what ", major, ".", minor,
                     " adds — upgrade the host, or rebuild the plugin for ABI ",
                     MCPREG_ABI_MAJOR, ".", MCPREG_ABI_MINOR));
  }
  if (!MCPREG_ABI_HAS_FIELD(mcpreg_plugin_descriptor, api,
                            descriptor->struct_size)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": plugin descriptor is ", descriptor->struct_size,
        " bytes, smaller than ABI 1.0's ", sizeof(mcpreg_plugin_descriptor)));
  }
  if (descriptor->plugin_name == nullptr ||
      descriptor->plugin_version == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": plugin descriptor has no name or version"));
  }
  return CheckApiTable(descriptor->api, path);
}

absl::StatusOr<LoadedPlugin> LoadedPlugin::Open(const std::string& path) {
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return absl::NotFoundError(absl::StrCat("cannot load plugin ", path, ": ",
                                            why ? why : "unknown error"));
  }
  void* symbol = dlsym(handle, MCPREG_PLUGIN_ENTRY_SYMBOL);
  if (symbol == nullptr) {
    dlclose(handle);
    return absl::NotFoundError(absl::StrCat(path, " does not export ",
                                            MCPREG_PLUGIN_ENTRY_SYMBOL,
                                            "; it is not an mcpreg plugin"));
  }
  auto entry = reinterpret_cast<mcpreg_plugin_entry_fn>(symbol);
  const mcpreg_plugin_descriptor* descriptor = entry();
  if (absl::Status s = CheckPluginDescriptor(descriptor, path); !s.ok()) {
    dlclose(handle);
    return s;
  }
  return LoadedPlugin(path, handle, descriptor);
}

LoadedPlugin::LoadedPlugin(LoadedPlugin&& other) noexcept
    : path_(std::move(other.path_)),
      handle_(std::exchange(other.handle_, nullptr)),
      descriptor_(std::exchange(other.descriptor_, nullptr)) {}

}  // namespace mcpreg::host

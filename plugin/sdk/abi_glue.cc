#include "plugin/sdk/abi_glue.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "absl/strings/str_cat.h"
#include "plugin/sdk/abi_status.h"

struct mcpreg_instance {
  std::unique_ptr<mcpreg::sdk::PluginInstance> impl;
};

namespace mcpreg::sdk {
namespace {

InstanceFactory g_factory = nullptr;

// malloc'd so that free_string can release it whatever allocator the host
// uses; the host never frees it itself.
char* CopyForHost(absl::string_view text) {
  char* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return out;
}

int32_t Fail(char** error_out, int32_t code, absl::string_view message) {
  if (error_out != nullptr) *error_out = CopyForHost(message);
  return code;
}

std::string CheckHost(const mcpreg_host_api* host) {
  if (host == nullptr) return "host api table is NULL";
  if (!MCPREG_ABI_HAS_FIELD(mcpreg_host_api, log, host->struct_size)) {
    return absl::StrCat("host api table is ", host->struct_size,
                        " bytes, too small for ABI 1.0");
  }
  if (host->abi_major != MCPREG_ABI_MAJOR) {
    return absl::StrCat("host speaks plugin ABI ", host->abi_major, ".",
                        host->abi_minor, ", this plugin was built for ",
                        MCPREG_ABI_MAJOR, ".", MCPREG_ABI_MINOR);
  }
  if (host->log == nullptr) return "host api table has no log callback";
  return "";
}

int32_t Create(const mcpreg_host_api* host, mcpreg_str config_json,
               mcpreg_instance** instance_out, char** error_out) {
  try {
    if (instance_out == nullptr) {
      return Fail(error_out, MCPREG_STATUS_INVALID_ARGUMENT,
                  "instance_out is NULL");
    }
    *instance_out = nullptr;
    if (std::string bad = CheckHost(host); !bad.empty()) {
      return Fail(error_out, MCPREG_STATUS_FAILED_PRECONDITION, bad);
    }
    absl::string_view json(config_json.data == nullptr ? "" : config_json.data,
                           config_json.data == nullptr ? 0 : config_json.size);
    absl::StatusOr<std::unique_ptr<PluginInstance>> impl =
        g_factory(host, json);
    if (!impl.ok()) {
      return Fail(error_out, AbiCodeFromStatus(impl.status().code()),
                  std::string(impl.status().message()));
    }
    *instance_out = new mcpreg_instance{std::move(*impl)};
    return MCPREG_STATUS_OK;
  } catch (const std::exception& e) {
    return Fail(error_out, MCPREG_STATUS_INTERNAL,
                absl::StrCat("plugin create failed: ", e.what()));
  } catch (...) {
    return Fail(error_out, MCPREG_STATUS_INTERNAL,
                "plugin create failed with an unknown exception");
  }
}

void Destroy(mcpreg_instance* instance) {
  try {
    delete instance;
  } catch (...) {
    // Nothing sensible is left to do; the host is tearing down anyway.
  }
}

void FreeString(char* string) { std::free(string); }

int32_t Describe(mcpreg_instance* instance, mcpreg_description* out) {
  try {
    if (instance == nullptr || out == nullptr) {
      return MCPREG_STATUS_INVALID_ARGUMENT;
    }
    return instance->impl->Describe(out);
  } catch (...) {
    return MCPREG_STATUS_INTERNAL;
  }
}

int32_t Call(mcpreg_instance* instance, const mcpreg_call_info* call,
             mcpreg_bytes request, mcpreg_completion_fn complete,
             void* call_ctx) {
  try {
    if (instance == nullptr || call == nullptr || complete == nullptr) {
      return MCPREG_STATUS_INVALID_ARGUMENT;
    }
    return instance->impl->Call(*call, request, complete, call_ctx);
  } catch (...) {
    return MCPREG_STATUS_INTERNAL;
  }
}

void Cancel(mcpreg_instance* instance, void* call_ctx) {
  try {
    if (instance != nullptr) instance->impl->Cancel(call_ctx);
  } catch (...) {
    // Cancellation is advisory; the call still completes on its own.
  }
}

const mcpreg_plugin_api kApi = {
    sizeof(mcpreg_plugin_api),
    &Create,
    &Destroy,
    &FreeString,
    &Describe,
    &Call,
    &Cancel,
};

}  // namespace

const mcpreg_plugin_descriptor* MakePluginDescriptor(const char* name,
                                                     const char* version,
                                                     InstanceFactory factory) {
  g_factory = factory;
  static const mcpreg_plugin_descriptor descriptor = {
      sizeof(mcpreg_plugin_descriptor),
      MCPREG_ABI_MAJOR,
      MCPREG_ABI_MINOR,
      name,
      version,
      &kApi,
  };
  return &descriptor;
}

}  // namespace mcpreg::sdk

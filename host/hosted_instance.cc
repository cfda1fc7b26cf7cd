#include "host/hosted_instance.h"

#include "absl/strings/str_cat.h"
#include "host/log.h"
#include "plugin/sdk/abi_status.h"

namespace mcpreg::host {
namespace {

void LogFromPlugin(void* ctx, int32_t level, mcpreg_str message) {
  const auto* label = static_cast<const std::string*>(ctx);
  if (level < MCPREG_LOG_DEBUG || level > MCPREG_LOG_ERROR) {
    level = MCPREG_LOG_INFO;
  }
  Log(static_cast<LogLevel>(level), *label,
      absl::string_view(message.data == nullptr ? "" : message.data,
                        message.data == nullptr ? 0 : message.size));
}

}  // namespace

HostedInstance::HostedInstance(const LoadedPlugin& plugin)
    : api_(&plugin.api()),
      label_(absl::StrCat("plugin ", plugin.descriptor().plugin_name)) {
  host_api_.struct_size = sizeof(host_api_);
  host_api_.abi_major = MCPREG_ABI_MAJOR;
  host_api_.abi_minor = MCPREG_ABI_MINOR;
  host_api_.host_ctx_host_ptr = &label_;
  host_api_.log = &LogFromPlugin;
  // The optional access-service and storage slots stay NULL: this reference
  // host lets the plugin use its built-in backends.
}

absl::StatusOr<std::unique_ptr<HostedInstance>> HostedInstance::Create(
    const LoadedPlugin& plugin, const std::string& config_json) {
  std::unique_ptr<HostedInstance> self(new HostedInstance(plugin));
  char* error = nullptr;
  const int32_t code = self->api_->create(
      &self->host_api_, {config_json.data(), config_json.size()},
      &self->instance_, &error);
  if (code != MCPREG_STATUS_OK || self->instance_ == nullptr) {
    std::string message = error != nullptr ? error : "no reason given";
    self->api_->free_string(error);
    self->instance_ = nullptr;
    // A failed create that says OK is still a failure: UNKNOWN.
    return absl::Status(
        code == MCPREG_STATUS_OK ? absl::StatusCode::kUnknown
                                 : StatusCodeFromAbi(code),
        absl::StrCat(plugin.path(),
                     ": the plugin refused to start: ", message));
  }
  self->api_->free_string(error);
  if (absl::Status s = self->Describe(); !s.ok()) return s;
  return self;
}

absl::Status HostedInstance::Describe() {
  mcpreg_description description{};
  description.struct_size = sizeof(description);
  const int32_t code = api_->describe(instance_, &description);
  if (code != MCPREG_STATUS_OK) {
    return absl::InternalError(
        absl::StrCat(label_, ": describe failed with status ", code));
  }
  for (size_t i = 0; i < description.method_count; ++i) {
    const mcpreg_str& m = description.methods[i];
    std::string name(m.data, m.size);
    if (methods_.insert(name).second) method_list_.push_back(std::move(name));
  }
  if (description.file_descriptor_set.data != nullptr) {
    file_descriptor_set_.assign(
        reinterpret_cast<const char*>(description.file_descriptor_set.data),
        description.file_descriptor_set.size);
  }
  return absl::OkStatus();
}

HostedInstance::~HostedInstance() {
  if (instance_ != nullptr) api_->destroy(instance_);
}

}  // namespace mcpreg::host

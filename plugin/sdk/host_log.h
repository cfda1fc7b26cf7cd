// Log lines go to the host through its log callback, never to stdout: the
// host owns where logs go and how they are formatted.
#ifndef MCPREG_PLUGIN_SDK_HOST_LOG_H_
#define MCPREG_PLUGIN_SDK_HOST_LOG_H_

#include "absl/strings/string_view.h"
#include "mcpreg/plugin_abi.h"

namespace mcpreg::sdk {

class HostLog {
 public:
  explicit HostLog(const mcpreg_host_api* host) : host_(host) {}

  void Debug(absl::string_view m) const { Write(MCPREG_LOG_DEBUG, m); }
  void Info(absl::string_view m) const { Write(MCPREG_LOG_INFO, m); }
  void Warning(absl::string_view m) const { Write(MCPREG_LOG_WARNING, m); }
  void Error(absl::string_view m) const { Write(MCPREG_LOG_ERROR, m); }

 private:
  void Write(mcpreg_log_level level, absl::string_view message) const {
    if (host_ == nullptr || host_->log == nullptr) return;
    host_->log(host_->host_ctx_host_ptr, level,
               mcpreg_str{message.data(), message.size()});
  }

  const mcpreg_host_api* host_;
};

}  // namespace mcpreg::sdk

#endif  // MCPREG_PLUGIN_SDK_HOST_LOG_H_

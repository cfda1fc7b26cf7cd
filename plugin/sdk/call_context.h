// What a handler knows about the call it serves: method, headers, peer,
// deadline and whether the host has given up on it.
#ifndef MCPREG_PLUGIN_SDK_CALL_CONTEXT_H_
#define MCPREG_PLUGIN_SDK_CALL_CONTEXT_H_

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "mcpreg/plugin_abi.h"

namespace mcpreg::sdk {

class CallContext {
 public:
  // Copies everything out of `info`: it is borrowed only for the ABI call.
  explicit CallContext(const mcpreg_call_info& info);

  const std::string& method() const { return method_; }
  const std::string& peer() const { return peer_; }
  // absl::InfiniteFuture() when the caller set none.
  absl::Time deadline() const { return deadline_; }
  const std::vector<std::pair<std::string, std::string>>& metadata() const {
    return metadata_;
  }
  // The first value of a header (keys are lower-case), or "" when absent.
  absl::string_view Header(absl::string_view key) const;

  // Set by the host's cancel, by the plugin's shutdown, or by the deadline
  // passing; long-running handlers check it between steps.
  bool cancelled() const {
    return cancelled_.load(std::memory_order_acquire) ||
           absl::Now() >= deadline_;
  }
  void Cancel() { cancelled_.store(true, std::memory_order_release); }

 private:
  std::string method_;
  std::string peer_;
  absl::Time deadline_;
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace mcpreg::sdk

#endif  // MCPREG_PLUGIN_SDK_CALL_CONTEXT_H_

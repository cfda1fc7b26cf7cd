// What a handler knows about the call it serves: method, headers, peer,
// deadline and whether the host has given up on it.
#ifndef MCPREG_PLUGIN_SDK_CALL_CONTEXT_H_
#define MCPREG_PLUGIN_SDK_CALL_CONTEXT_H_

#include <atomic>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
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
  // The call's x-request-id when it is plain text (letters, digits, '.',
  // '_', ':', '-'; at most 128), else one made up: what the audit log and
  // the host log know the call by.
  const std::string& request_id() const { return request_id_; }

  // Set by the host's cancel, by the plugin's shutdown, or by the deadline
  // passing; long-running handlers check it between steps.
  bool cancelled() const {
    return cancelled_.load(std::memory_order_acquire) ||
           absl::Now() >= deadline_;
  }
  // Marks the call cancelled and runs the cancel hook, if one is set.
  void Cancel();

  // Runs `hook` on the cancelling thread when the host cancels the call
  // (its client went away), or here at once if it already has, so that a
  // handler blocked in I/O can be interrupted. The hook must not block.
  // One hook at a time; ClearCancelHook returns once a running hook has
  // finished. Const because handlers hold the context as const: the hook
  // is cancellation plumbing, not anything a handler reads.
  void SetCancelHook(std::function<void()> hook) const;
  void ClearCancelHook() const;

 private:
  std::string method_;
  std::string peer_;
  absl::Time deadline_;
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::string request_id_;
  std::atomic<bool> cancelled_{false};
  mutable absl::Mutex hook_mu_;
  mutable std::function<void()> hook_ ABSL_GUARDED_BY(hook_mu_);
};

}  // namespace mcpreg::sdk

#endif  // MCPREG_PLUGIN_SDK_CALL_CONTEXT_H_

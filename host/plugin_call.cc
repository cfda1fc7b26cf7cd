#include "host/plugin_call.h"

#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "host/abi_call.h"
#include "host/cancel_handshake.h"

namespace mcpreg::host {
namespace {

struct CallState {
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  bool cancel_sent ABSL_GUARDED_BY(mu) = false;
  // The thread inside the plugin's cancel, if any.
  std::thread::id cancelling_thread ABSL_GUARDED_BY(mu);
  PluginReply reply ABSL_GUARDED_BY(mu);
};

void OnComplete(void* ctx, const mcpreg_call_result* result) {
  std::unique_ptr<std::shared_ptr<CallState>> ref(
      static_cast<std::shared_ptr<CallState>*>(ctx));
  CallState& state = **ref;
  absl::MutexLock lock(&state.mu);
  WaitForCancelElsewhere(state.mu, state.cancelling_thread);
  PluginReply& r = state.reply;
  AbiStatus status = StatusOfCompletion(result);
  r.code = status.code;
  r.message = std::move(status.message);
  r.details = std::move(status.details);
  if (r.code == MCPREG_STATUS_OK && result->response.data != nullptr) {
    r.response.assign(reinterpret_cast<const char*>(result->response.data),
                      result->response.size);
  }
  state.done = true;
}

PluginReply ReplyOf(AbiStatus status) {
  PluginReply r;
  r.code = status.code;
  r.message = std::move(status.message);
  r.details = std::move(status.details);
  return r;
}

}  // namespace

PluginReply CallPluginAndWait(
    const HostedInstance& plugin, const std::string& method,
    const std::vector<std::pair<std::string, std::string>>& metadata,
    const std::string& peer, const std::string& request, absl::Time deadline) {
  const AbiCallInfo info(method, metadata, peer, deadline);
  auto state = std::make_shared<CallState>();
  // Released by OnComplete, whenever the plugin gets to it.
  auto* ref = new std::shared_ptr<CallState>(state);
  const int32_t code = plugin.Call(
      info.get(),
      {reinterpret_cast<const uint8_t*>(request.data()), request.size()},
      &OnComplete, ref);
  if (code != MCPREG_STATUS_OK) {
    delete ref;  // rejected up front: no completion will come
    return ReplyOf(RefusalStatus(code, method));
  }
  {
    absl::MutexLock lock(&state->mu);
    if (state->mu.AwaitWithDeadline(absl::Condition(&state->done), deadline)) {
      return state->reply;
    }
    state->cancel_sent = true;
    state->cancelling_thread = std::this_thread::get_id();
  }
  // Outside the lock: the plugin may complete from inside cancel (the ABI
  // allows it); a completion on another thread waits until cancel returns.
  plugin.Cancel(ref);
  {
    absl::MutexLock lock(&state->mu);
    state->cancelling_thread = std::thread::id();
  }
  return ReplyOf(DeadlineStatus(method));
}

}  // namespace mcpreg::host

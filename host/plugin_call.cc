#include "plugin_call.h"

#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cancel_handshake.h"

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
  if (result == nullptr) {
    r.code = MCPREG_STATUS_INTERNAL;
    r.message = "plugin completed the call without a result";
  } else {
    r.code = result->status_code;
    if (r.code < MCPREG_STATUS_OK || r.code > MCPREG_STATUS_UNAUTHENTICATED) {
      r.code = MCPREG_STATUS_UNKNOWN;
    }
    if (result->status_message.data != nullptr) {
      r.message.assign(result->status_message.data,
                       result->status_message.size);
    }
    if (MCPREG_ABI_HAS_FIELD(mcpreg_call_result, status_details,
                             result->struct_size) &&
        result->status_details.data != nullptr) {
      r.details.assign(
          reinterpret_cast<const char*>(result->status_details.data),
          result->status_details.size);
    }
    if (r.code == MCPREG_STATUS_OK && result->response.data != nullptr) {
      r.response.assign(reinterpret_cast<const char*>(result->response.data),
                        result->response.size);
    }
  }
  state.done = true;
}

}  // namespace

PluginReply CallPluginAndWait(
    const PluginInstance& plugin, const std::string& method,
    const std::vector<std::pair<std::string, std::string>>& metadata,
    const std::string& peer, const std::string& request, absl::Time deadline) {
  std::vector<mcpreg_metadata_entry> entries;
  entries.reserve(metadata.size());
  for (const auto& [key, value] : metadata) {
    entries.push_back(
        {{key.data(), key.size()},
         {reinterpret_cast<const uint8_t*>(value.data()), value.size()}});
  }
  mcpreg_call_info info{};
  info.struct_size = sizeof(info);
  info.method = {method.data(), method.size()};
  info.metadata = entries.data();
  info.metadata_count = entries.size();
  info.peer = {peer.data(), peer.size()};
  info.deadline_unix_nanos = absl::ToUnixNanos(deadline);

  auto state = std::make_shared<CallState>();
  // Released by OnComplete, whenever the plugin gets to it.
  auto* ref = new std::shared_ptr<CallState>(state);
  const int32_t code = plugin.Call(
      info, {reinterpret_cast<const uint8_t*>(request.data()), request.size()},
      &OnComplete, ref);
  if (code != MCPREG_STATUS_OK) {
    delete ref;  // rejected up front: no completion will come
    PluginReply r;
    r.code = code;
    r.message = code == MCPREG_STATUS_RESOURCE_EXHAUSTED
                    ? "the plugin's queue is full; retry with backoff"
                    : absl::StrCat("the plugin refused ", method);
    return r;
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
  PluginReply r;
  r.code = MCPREG_STATUS_DEADLINE_EXCEEDED;
  r.message = "the call did not finish before its deadline";
  return r;
}

}  // namespace mcpreg::host

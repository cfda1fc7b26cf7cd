#include "host/forwarding_service.h"

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "host/abi_call.h"
#include "host/cancel_handshake.h"

namespace mcpreg::host {
namespace {

// The state of one forwarded call, shared by the reactor (until OnDone), the
// plugin (until it completes) and the deadline timer (until it fires or is
// cancelled). Whichever of "plugin completed", "client went away" and
// "deadline passed" comes first finishes the RPC; the others find it finished.
class ForwardedCall {
 public:
  ForwardedCall(grpc::ServerGenericBidiReactor* reactor,
                grpc::ByteBuffer* response_slot, const HostedInstance* plugin)
      : reactor_(reactor), response_slot_(response_slot), plugin_(plugin) {}

  // Starts the plugin call. `self` keeps this object alive until the plugin
  // completes, however long that takes.
  void Start(const std::shared_ptr<ForwardedCall>& self,
             const mcpreg_call_info& info, mcpreg_bytes request) {
    // The plugin knows the call by this heap-held reference; OnComplete
    // releases it. A plugin that never completes leaks it, by design: the
    // memory must stay valid for a completion that may still come.
    auto* plugin_ref = new std::shared_ptr<ForwardedCall>(self);
    {
      absl::MutexLock lock(&mu_);
      if (reactor_ == nullptr) {  // cancelled before we got here
        delete plugin_ref;
        return;
      }
      plugin_running_ = true;
      call_ctx_ = plugin_ref;
    }
    const int32_t code = plugin_->Call(info, request, &OnComplete, plugin_ref);
    if (code != MCPREG_STATUS_OK) {
      // Rejected up front: no completion will come. Stop cancels first (and
      // let one in progress return), then free what they would name.
      {
        absl::MutexLock lock(&mu_);
        WaitForCancelElsewhere(mu_, cancelling_thread_);
        plugin_running_ = false;
      }
      delete plugin_ref;
      Finish(ToGrpcStatus(RefusalStatus(
                 code, absl::string_view(info.method.data, info.method.size))),
             nullptr);
    }
  }

  // The client went away or the deadline passed: ask the plugin to stop, then
  // finish now. Cancel runs outside the lock, because the plugin may complete
  // the call from inside it (the ABI allows that); a completion arriving on
  // another thread meanwhile waits until cancel has returned (OnComplete).
  void Abandon(const grpc::Status& status) {
    void* call_ctx = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (plugin_running_ && !cancel_sent_) {
        cancel_sent_ = true;
        cancelling_thread_ = std::this_thread::get_id();
        call_ctx = call_ctx_;
      }
    }
    if (call_ctx != nullptr) {
      plugin_->Cancel(call_ctx);
      absl::MutexLock lock(&mu_);
      cancelling_thread_ = std::thread::id();
    }
    Finish(status, nullptr);
  }

  // Ends the call at `deadline` if the plugin has not completed it by then.
  // A call the plugin completed inside `call` (GetPluginInfo, health) needs
  // no timer: nothing is scheduled and cancelled for it. Decided under the
  // lock that OnComplete takes, so a completion racing this either comes
  // first (no timer) or finds the timer to cancel.
  void BoundByDeadline(DeadlineTimer* timer, absl::Time deadline,
                       const std::shared_ptr<ForwardedCall>& self,
                       const std::string& method) {
    absl::MutexLock lock(&mu_);
    if (!plugin_running_ || reactor_ == nullptr) return;
    std::weak_ptr<ForwardedCall> weak = self;
    timer_ = timer;
    timer_id_ = timer->Schedule(deadline, [weak, method] {
      if (auto call = weak.lock()) {
        call->Abandon(ToGrpcStatus(DeadlineStatus(method)));
      }
    });
  }
  void CancelTimer() {
    DeadlineTimer* timer;
    DeadlineTimer::Id id;
    {
      absl::MutexLock lock(&mu_);
      timer = std::exchange(timer_, nullptr);
      id = timer_id_;
    }
    if (timer != nullptr) timer->Cancel(id);
  }

  // Finishes the RPC unless already finished. `response` is read only for OK.
  void Finish(const grpc::Status& status, const mcpreg_bytes* response) {
    grpc::ServerGenericBidiReactor* reactor;
    {
      absl::MutexLock lock(&mu_);
      reactor = std::exchange(reactor_, nullptr);
    }
    if (reactor == nullptr) return;
    if (status.ok() && response != nullptr) {
      grpc::Slice slice(response->data, response->size);
      *response_slot_ = grpc::ByteBuffer(&slice, 1);
      reactor->StartWriteAndFinish(response_slot_, grpc::WriteOptions(),
                                   status);
    } else {
      reactor->Finish(status);
    }
  }

 private:
  static void OnComplete(void* ctx, const mcpreg_call_result* result) {
    std::unique_ptr<std::shared_ptr<ForwardedCall>> ref(
        static_cast<std::shared_ptr<ForwardedCall>*>(ctx));
    ForwardedCall& call = **ref;
    bool abandoned;
    {
      absl::MutexLock lock(&call.mu_);
      WaitForCancelElsewhere(call.mu_, call.cancelling_thread_);
      call.plugin_running_ = false;
      abandoned = call.cancel_sent_;
    }
    call.CancelTimer();
    // After a cancel the host ignores what the plugin says: Abandon finishes
    // the RPC with its own status (it may not have yet, if the plugin
    // completed from inside cancel).
    if (abandoned) return;
    call.Finish(ToGrpcStatus(StatusOfCompletion(result)),
                result == nullptr ? nullptr : &result->response);
  }

  static grpc::Status ToGrpcStatus(const AbiStatus& s) {
    return grpc::Status(static_cast<grpc::StatusCode>(s.code), s.message,
                        s.details);
  }

  absl::Mutex mu_;
  grpc::ServerGenericBidiReactor* reactor_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer* const response_slot_;
  const HostedInstance* const plugin_;
  bool plugin_running_ ABSL_GUARDED_BY(mu_) = false;
  bool cancel_sent_ ABSL_GUARDED_BY(mu_) = false;
  // The thread inside the plugin's cancel, if any.
  std::thread::id cancelling_thread_ ABSL_GUARDED_BY(mu_);
  DeadlineTimer* timer_ ABSL_GUARDED_BY(mu_) = nullptr;
  DeadlineTimer::Id timer_id_ ABSL_GUARDED_BY(mu_) = 0;
  // The call_ctx the plugin knows this call by (the heap-held shared_ptr).
  void* call_ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
};

class ForwardingReactor : public grpc::ServerGenericBidiReactor {
 public:
  ForwardingReactor(grpc::GenericCallbackServerContext* context,
                    const HostedInstance* plugin, DeadlineTimer* timer,
                    const ForwardingOptions& options)
      : context_(context),
        plugin_(plugin),
        timer_(timer),
        options_(options),
        call_(std::make_shared<ForwardedCall>(this, &response_, plugin)) {
    if (!plugin_->Serves(context_->method())) {
      call_->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                 absl::StrCat("method ", context_->method(),
                                              " is not served by ",
                                              plugin_->plugin_label())),
                    nullptr);
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      call_->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "the client sent no request message"),
                    nullptr);
      return;
    }
    Forward();
  }

  void OnCancel() override {
    call_->Abandon(
        grpc::Status(grpc::StatusCode::CANCELLED, "the call was cancelled"));
  }

  void OnDone() override {
    call_->CancelTimer();
    delete this;
  }

 private:
  void Forward() {
    // Contiguous request bytes; one slice (the usual case) needs no copy.
    std::vector<grpc::Slice> slices;
    request_.Dump(&slices);
    std::string joined;
    mcpreg_bytes request{nullptr, 0};
    if (slices.size() == 1) {
      request = {slices[0].begin(), slices[0].size()};
    } else {
      for (const grpc::Slice& s : slices) {
        joined.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
      request = {reinterpret_cast<const uint8_t*>(joined.data()),
                 joined.size()};
    }

    const std::string peer = context_->peer();
    const std::string& method = context_->method();

    // The host's bound applies even when the client's deadline is later.
    absl::Time deadline = absl::Now() + options_.max_call_timeout;
    const auto client_deadline = context_->deadline();
    if (client_deadline != std::chrono::system_clock::time_point::max()) {
      deadline = std::min(deadline, absl::FromChrono(client_deadline));
    }

    const AbiCallInfo info(method, context_->client_metadata(), peer, deadline);
    call_->Start(call_, info.get(), request);
    call_->BoundByDeadline(timer_, deadline, call_, method);
  }

  grpc::GenericCallbackServerContext* const context_;
  const HostedInstance* const plugin_;
  DeadlineTimer* const timer_;
  const ForwardingOptions& options_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::shared_ptr<ForwardedCall> call_;
};

}  // namespace

ForwardingService::ForwardingService(const HostedInstance* plugin,
                                     ForwardingOptions options)
    : plugin_(plugin), options_(options) {}

grpc::ServerGenericBidiReactor* ForwardingService::CreateReactor(
    grpc::GenericCallbackServerContext* context) {
  return new ForwardingReactor(context, plugin_, &timer_, options_);
}

}  // namespace mcpreg::host

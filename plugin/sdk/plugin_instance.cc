#include "plugin/sdk/plugin_instance.h"

#include <atomic>
#include <exception>
#include <optional>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.pb.h"
#include "plugin/sdk/abi_status.h"
#include "plugin/sdk/status_details.h"

namespace mcpreg::sdk {
namespace {

void Complete(mcpreg_completion_fn complete, void* call_ctx,
              const absl::StatusOr<std::string>& result) {
  mcpreg_call_result out{};
  out.struct_size = sizeof(out);
  std::string details;  // outlives complete(), which copies it
  if (result.ok()) {
    out.status_code = MCPREG_STATUS_OK;
    out.response = {reinterpret_cast<const uint8_t*>(result->data()),
                    result->size()};
  } else {
    // absl::StatusCode values are the gRPC codes by design.
    out.status_code = AbiCodeFromStatus(result.status().code());
    const absl::string_view message = result.status().message();
    out.status_message = {message.data(), message.size()};
    details = EncodeStatusDetails(result.status());
    out.status_details = {reinterpret_cast<const uint8_t*>(details.data()),
                          details.size()};
  }
  complete(call_ctx, &out);
}

void CollectFiles(
    const google::protobuf::FileDescriptor* file,
    absl::flat_hash_set<const google::protobuf::FileDescriptor*>& seen,
    google::protobuf::FileDescriptorSet& set) {
  if (!seen.insert(file).second) return;
  for (int i = 0; i < file->dependency_count(); ++i) {
    CollectFiles(file->dependency(i), seen, set);
  }
  file->CopyTo(set.add_file());
}

}  // namespace

// One asynchronous call, shared by the copies of its RawReply.
struct RawReply::Call {
  Call(PluginInstance* instance, mcpreg_completion_fn complete, void* call_ctx,
       std::string method)
      : instance(instance),
        complete(complete),
        call_ctx(call_ctx),
        method(std::move(method)) {}
  Call(std::function<void(const absl::StatusOr<std::string>&)> finish,
       std::string method)
      : instance(nullptr),
        complete(nullptr),
        call_ctx(nullptr),
        method(std::move(method)),
        finish(std::move(finish)) {}
  ~Call() {
    Answer(absl::InternalError(
        absl::StrCat("internal error in ", method,
                     ": the handler finished without answering")));
  }
  void Answer(const absl::StatusOr<std::string>& result) {
    if (answered.exchange(true, std::memory_order_acq_rel)) return;
    if (instance == nullptr) {
      finish(result);
    } else {
      instance->FinishAsync(call_ctx, complete, result);
    }
  }

  PluginInstance* const instance;  // null: `finish` answers
  const mcpreg_completion_fn complete;
  void* const call_ctx;
  const std::string method;
  const std::function<void(const absl::StatusOr<std::string>&)> finish;
  std::atomic<bool> answered{false};
};

void RawReply::operator()(absl::StatusOr<std::string> result) const {
  call_->Answer(result);
}

RawReply RawReply::Calling(
    std::function<void(const absl::StatusOr<std::string>&)> finish,
    std::string method) {
  return RawReply(std::make_shared<Call>(std::move(finish), std::move(method)));
}

absl::Status InvalidRequest(const google::protobuf::MethodDescriptor* method) {
  return absl::InvalidArgumentError(
      absl::StrCat("request is not a valid ", method->input_type()->full_name(),
                   " message"));
}

std::string BuildFileDescriptorSet(
    const std::vector<const google::protobuf::FileDescriptor*>& files) {
  google::protobuf::FileDescriptorSet set;
  absl::flat_hash_set<const google::protobuf::FileDescriptor*> seen;
  for (const auto* file : files) CollectFiles(file, seen, set);
  return set.SerializeAsString();
}

PluginInstance::PluginInstance(const mcpreg_host_api* host,
                               const InstanceOptions& options)
    : log_(host), pool_(options.worker_threads, options.max_queued_calls) {}

PluginInstance::~PluginInstance() { Shutdown(); }

void PluginInstance::AddRawMethod(
    const google::protobuf::MethodDescriptor* method, Method handlers) {
  std::string name =
      absl::StrCat("/", method->service()->full_name(), "/", method->name());
  handlers_[name] = std::move(handlers);
  method_names_.push_back(std::move(name));
  method_views_.clear();
  for (const std::string& n : method_names_) {
    method_views_.push_back({n.data(), n.size()});
  }
  const auto* file = method->service()->file();
  bool known = false;
  for (const auto* f : files_) known = known || f == file;
  if (!known) {
    files_.push_back(file);
    descriptor_set_ = BuildFileDescriptorSet(files_);
  }
}

void PluginInstance::AddSerializedMethod(
    const google::protobuf::MethodDescriptor* method, RawHandler handler,
    Dispatch dispatch) {
  Method m;
  m.handler = std::move(handler);
  m.dispatch = dispatch;
  AddRawMethod(method, std::move(m));
}

std::vector<std::string> PluginInstance::MethodNames() const {
  return method_names_;
}

int32_t PluginInstance::Describe(mcpreg_description* out) const {
  const size_t size = out->struct_size;
  if (MCPREG_ABI_HAS_FIELD(mcpreg_description, method_count, size)) {
    out->methods = method_views_.data();
    out->method_count = method_views_.size();
  }
  if (MCPREG_ABI_HAS_FIELD(mcpreg_description, file_descriptor_set, size)) {
    out->file_descriptor_set = {
        reinterpret_cast<const uint8_t*>(descriptor_set_.data()),
        descriptor_set_.size()};
  }
  return MCPREG_STATUS_OK;
}

int32_t PluginInstance::Call(const mcpreg_call_info& info, mcpreg_bytes request,
                             mcpreg_completion_fn complete, void* call_ctx) {
  const mcpreg_str method =
      MCPREG_ABI_HAS_FIELD(mcpreg_call_info, method, info.struct_size)
          ? info.method
          : mcpreg_str{nullptr, 0};
  auto it = handlers_.find(absl::string_view(
      method.data == nullptr ? "" : method.data, method.size));
  if (it == handlers_.end()) return MCPREG_STATUS_UNIMPLEMENTED;
  const Method& m = it->second;
  if (m.dispatch == Dispatch::kInline) {
    return CallInline(m.handler, info, request, complete, call_ctx);
  }
  auto ctx = std::make_shared<CallContext>(info);
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return MCPREG_STATUS_UNAVAILABLE;
    in_flight_[call_ctx] = ctx;
  }
  const absl::string_view view(reinterpret_cast<const char*>(request.data),
                               request.data == nullptr ? 0 : request.size);
  if (m.fast_path) return CallFastPathFirst(m, ctx, view, complete, call_ctx);
  bool queued = false;
  try {
    queued = Submit(m, ctx, view, complete, call_ctx, std::nullopt);
  } catch (...) {  // bad_alloc building the task: refused, never completed
    Forget(call_ctx);
    throw;
  }
  if (!queued) {
    Forget(call_ctx);
    return MCPREG_STATUS_RESOURCE_EXHAUSTED;
  }
  return MCPREG_STATUS_OK;
}

int32_t PluginInstance::CallFastPathFirst(const Method& m,
                                          std::shared_ptr<CallContext> ctx,
                                          absl::string_view request,
                                          mcpreg_completion_fn complete,
                                          void* call_ctx) {
  // Started before the fast path runs, so that it can answer later; from
  // here the call is answered through the reply whatever fails, and `call`
  // returns OK.
  const RawReply reply = StartReply(*ctx, complete, call_ctx);
  bool taken = false;
  const absl::Status thrown =
      Guard(*ctx, [&] { taken = m.fast_path(*ctx, request, reply); });
  if (!thrown.ok()) {
    reply(thrown);
    return MCPREG_STATUS_OK;
  }
  if (taken) return MCPREG_STATUS_OK;
  try {
    if (!Submit(m, ctx, request, complete, call_ctx, reply)) {
      reply(
          absl::ResourceExhaustedError("the plugin's queue of calls is full"));
    }
  } catch (...) {  // bad_alloc building the task
    reply(absl::ResourceExhaustedError("the plugin could not queue the call"));
  }
  return MCPREG_STATUS_OK;
}

bool PluginInstance::Submit(const Method& m, std::shared_ptr<CallContext> ctx,
                            absl::string_view request,
                            mcpreg_completion_fn complete, void* call_ctx,
                            std::optional<RawReply> reply) {
  return pool_.TrySubmit([this, &m, ctx = std::move(ctx),
                          bytes = std::string(request), complete, call_ctx,
                          reply = std::move(reply)]() mutable {
    if (!m.async_handler) {
      Run(m.handler, ctx, bytes, complete, call_ctx);
      return;
    }
    // Started on the worker unless a fast path started it: a call refused
    // by `call`'s return code must have no reply that would complete it.
    if (!reply.has_value()) reply = StartReply(*ctx, complete, call_ctx);
    RunAsync(m.async_handler, *ctx, bytes, *reply);
  });
}

RawReply PluginInstance::StartReply(const CallContext& ctx,
                                    mcpreg_completion_fn complete,
                                    void* call_ctx) {
  auto call =
      std::make_shared<RawReply::Call>(this, complete, call_ctx, ctx.method());
  absl::MutexLock lock(&mu_);
  ++async_pending_;
  return RawReply(std::move(call));
}

int32_t PluginInstance::CallInline(const RawHandler& handler,
                                   const mcpreg_call_info& info,
                                   mcpreg_bytes request,
                                   mcpreg_completion_fn complete,
                                   void* call_ctx) {
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return MCPREG_STATUS_UNAVAILABLE;
    ++inline_running_;
  }
  // Even if building the context throws (bad_alloc), Shutdown must not wait
  // for this call forever.
  absl::Cleanup done = [this] {
    absl::MutexLock lock(&mu_);
    --inline_running_;
  };
  // Completed before `call` returns, so the borrowed request needs no copy
  // and the host has no chance to cancel: nothing to track in in_flight_.
  const CallContext ctx(info);
  const absl::StatusOr<std::string> result =
      Invoke(handler, ctx,
             absl::string_view(reinterpret_cast<const char*>(request.data),
                               request.data == nullptr ? 0 : request.size));
  Complete(complete, call_ctx, result);
  return MCPREG_STATUS_OK;
}

void PluginInstance::Run(const RawHandler& handler,
                         std::shared_ptr<CallContext> ctx,
                         const std::string& request,
                         mcpreg_completion_fn complete, void* call_ctx) {
  const absl::StatusOr<std::string> result =
      ctx->cancelled()
          ? absl::CancelledError("call cancelled before it started")
          : Invoke(handler, *ctx, request);
  // Forget before completing: once completed, the host may reuse call_ctx.
  Forget(call_ctx);
  Complete(complete, call_ctx, result);
}

void PluginInstance::RunAsync(const RawAsyncHandler& handler,
                              const CallContext& ctx,
                              const std::string& request,
                              const RawReply& reply) {
  if (ctx.cancelled()) {
    reply(absl::CancelledError("call cancelled before it started"));
    return;
  }
  // A handler that threw may have handed its reply on and be answered later
  // too; the first answer wins.
  absl::Status thrown = Guard(ctx, [&] { handler(ctx, request, reply); });
  if (!thrown.ok()) reply(thrown);
}

void PluginInstance::FinishAsync(void* call_ctx, mcpreg_completion_fn complete,
                                 const absl::StatusOr<std::string>& result) {
  // Forget before completing: once completed, the host may reuse call_ctx.
  Forget(call_ctx);
  Complete(complete, call_ctx, result);
  absl::MutexLock lock(&mu_);
  --async_pending_;
}

absl::Status PluginInstance::Guard(const CallContext& ctx,
                                   const std::function<void()>& body) {
  try {
    body();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    log_.Error(
        absl::StrCat("handler for ", ctx.method(), " threw: ", e.what()));
  } catch (...) {
    log_.Error(absl::StrCat("handler for ", ctx.method(),
                            " threw a non-standard exception"));
  }
  return absl::InternalError(absl::StrCat("internal error in ", ctx.method(),
                                          "; the host log has details"));
}

absl::StatusOr<std::string> PluginInstance::Invoke(const RawHandler& handler,
                                                   const CallContext& ctx,
                                                   absl::string_view request) {
  absl::StatusOr<std::string> result;
  absl::Status thrown = Guard(ctx, [&] { result = handler(ctx, request); });
  if (!thrown.ok()) return thrown;
  return result;
}

void PluginInstance::Forget(void* call_ctx) {
  absl::MutexLock lock(&mu_);
  in_flight_.erase(call_ctx);
}

void PluginInstance::Cancel(void* call_ctx) {
  absl::MutexLock lock(&mu_);
  auto it = in_flight_.find(call_ctx);
  if (it != in_flight_.end()) it->second->Cancel();
}

void PluginInstance::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
    for (auto& [unused, ctx] : in_flight_) ctx->Cancel();
  }
  // Queued calls see the cancellation and complete with CANCELLED; running
  // ones finish (sooner if their cancel hooks interrupt what they wait for);
  // asynchronous ones are answered by whatever holds their reply. Either way
  // every accepted call completes before this returns.
  pool_.Shutdown();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](PluginInstance* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
        return self->inline_running_ == 0 && self->async_pending_ == 0;
      },
      this));
}

}  // namespace mcpreg::sdk

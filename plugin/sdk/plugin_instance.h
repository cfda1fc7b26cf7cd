// The C++ side of one plugin instance: a table of unary methods, each run on a
// worker pool or inline on the host's thread, behind the C ABI of
// plugin_abi.h (see abi_glue.h). Handlers return absl::Status — or, for
// asynchronous methods, answer later through a Reply; this is the one place a
// Status becomes a wire status, and the one place an exception from a handler
// is caught and made INTERNAL.
#ifndef MCPREG_PLUGIN_SDK_PLUGIN_INSTANCE_H_
#define MCPREG_PLUGIN_SDK_PLUGIN_INSTANCE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "mcpreg/plugin_abi.h"
#include "plugin/sdk/call_context.h"
#include "plugin/sdk/host_log.h"
#include "plugin/sdk/worker_pool.h"

namespace mcpreg::sdk {

// Takes the serialized request, returns the serialized response.
using RawHandler = std::function<absl::StatusOr<std::string>(
    const CallContext&, absl::string_view request)>;

class PluginInstance;

// Answers one call of an asynchronous method (AddAsyncMethod), from any
// thread. Copies share the call; the first answer completes it and later ones
// are ignored. If the last copy goes away unanswered (a handler's bug), the
// call completes INTERNAL instead of hanging. The instance's shutdown waits
// for every call to be answered, so whatever holds a Reply must answer or
// drop it in bounded time; and a thread that answers runs plugin code until
// it returns, so the instance's destructor must join it (mcpreg's audit
// writer is joined when the instance's services are destroyed).
class RawReply {
 public:
  void operator()(absl::StatusOr<std::string> result) const;

  // A reply that hands the serialized answer to `finish` instead of the
  // host, with the same once-only and answered-on-destruction guarantees:
  // for running an asynchronous handler outside an instance (its unit
  // tests). `method` names the call in the "finished without answering"
  // error.
  static RawReply Calling(
      std::function<void(const absl::StatusOr<std::string>&)> finish,
      std::string method);

 private:
  friend class PluginInstance;
  struct Call;
  explicit RawReply(std::shared_ptr<Call> call) : call_(std::move(call)) {}
  std::shared_ptr<Call> call_;
};

template <typename Response>
class Reply {
 public:
  explicit Reply(RawReply raw) : raw_(std::move(raw)) {}
  void operator()(const absl::StatusOr<Response>& response) const {
    if (!response.ok()) {
      raw_(response.status());
    } else {
      raw_(response->SerializeAsString());
    }
  }

 private:
  RawReply raw_;
};

// Takes the serialized request; answers through `reply`, now or later.
using RawAsyncHandler = std::function<void(
    const CallContext&, absl::string_view request, RawReply reply)>;

// Tries to answer on the host's thread, inside `call`: must not block.
// Returns true when it took the call (answering now or later through
// `reply`, copied as needed), or false, having not answered, to have the
// method's handler run on a worker instead.
using RawFastPath = std::function<bool(
    const CallContext&, absl::string_view request, const RawReply& reply)>;

// Where a method's handler runs.
enum class Dispatch {
  // On a worker thread, so the handler may block (database, storage). The
  // host's thread returns at once; the completion comes from the worker.
  kWorker,
  // On the host's thread inside `call`, completing before it returns: no
  // thread hand-off at all (two context switches fewer per call). Only for
  // handlers that never block: they hold up the host's I/O thread.
  kInline,
};

struct InstanceOptions {
  size_t worker_threads = 4;
  size_t max_queued_calls = 4096;
};

class PluginInstance {
 public:
  PluginInstance(const mcpreg_host_api* host, const InstanceOptions& options);
  virtual ~PluginInstance();  // Finishes every call; see Shutdown.

  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  // Registers a typed unary method; its service's file joins the descriptor
  // set handed to the host. Call before the instance is returned to the host.
  template <typename Request, typename Response>
  void AddMethod(const google::protobuf::MethodDescriptor* method,
                 std::function<absl::StatusOr<Response>(const CallContext&,
                                                        const Request&)>
                     handler,
                 Dispatch dispatch = Dispatch::kWorker);

  // Registers a unary method whose handler takes and returns serialized
  // messages: for an answer prepared once instead of built and serialized on
  // every call. The handler checks that the request parses itself.
  void AddSerializedMethod(const google::protobuf::MethodDescriptor* method,
                           RawHandler handler,
                           Dispatch dispatch = Dispatch::kWorker);

  // Registers a typed unary method whose handler starts on a worker and may
  // answer after it returns, from another thread (e.g. once a database write
  // it queued has committed): no worker is held while it waits. The context
  // is valid only until the handler returns; copy what the answer needs.
  //
  // With a `fast_path`, that runs first, on the host's thread inside `call`
  // (see RawFastPath): for calls that can mostly be decided from memory, and
  // so need no thread hand-off, but sometimes must wait for a database.
  template <typename Request, typename Response>
  void AddAsyncMethod(
      const google::protobuf::MethodDescriptor* method,
      std::function<void(const CallContext&, const Request&, Reply<Response>)>
          handler,
      std::function<bool(const CallContext&, const Request&,
                         const Reply<Response>&)>
          fast_path = nullptr);

  // The ABI entry points (abi_glue.cc forwards to these).
  int32_t Describe(mcpreg_description* out) const;
  int32_t Call(const mcpreg_call_info& info, mcpreg_bytes request,
               mcpreg_completion_fn complete, void* call_ctx);
  void Cancel(void* call_ctx);

  // Fully-qualified names of the methods served, in registration order.
  std::vector<std::string> MethodNames() const;

  const HostLog& log() const { return log_; }

 protected:
  // Stops taking calls, cancels queued ones and waits for running ones. The
  // most-derived destructor calls it before its members go away.
  void Shutdown();

 private:
  friend struct RawReply::Call;  // answers through FinishAsync

  // Exactly one of handler and async_handler is set; fast_path only with
  // async_handler.
  struct Method {
    RawHandler handler;
    RawAsyncHandler async_handler;
    RawFastPath fast_path;
    Dispatch dispatch = Dispatch::kWorker;
  };

  void AddRawMethod(const google::protobuf::MethodDescriptor* method,
                    Method handlers);
  int32_t CallInline(const RawHandler& handler, const mcpreg_call_info& info,
                     mcpreg_bytes request, mcpreg_completion_fn complete,
                     void* call_ctx);
  void Run(const RawHandler& handler, std::shared_ptr<CallContext> ctx,
           const std::string& request, mcpreg_completion_fn complete,
           void* call_ctx);
  // An asynchronous method with a fast path: tries it, then a worker.
  int32_t CallFastPathFirst(const Method& m, std::shared_ptr<CallContext> ctx,
                            absl::string_view request,
                            mcpreg_completion_fn complete, void* call_ctx);
  // Queues the call for a worker; false when the queue is full. `reply` is
  // set when the call was already started (see StartReply).
  bool Submit(const Method& m, std::shared_ptr<CallContext> ctx,
              absl::string_view request, mcpreg_completion_fn complete,
              void* call_ctx, std::optional<RawReply> reply);
  // From its return the call completes exactly once: through the reply, or,
  // if every copy of it is dropped unanswered, INTERNAL.
  RawReply StartReply(const CallContext& ctx, mcpreg_completion_fn complete,
                      void* call_ctx) ABSL_LOCKS_EXCLUDED(mu_);
  void RunAsync(const RawAsyncHandler& handler, const CallContext& ctx,
                const std::string& request, const RawReply& reply);
  // Runs `body`; an exception from it is logged and becomes INTERNAL.
  absl::Status Guard(const CallContext& ctx, const std::function<void()>& body);
  // The handler's result, with an exception made INTERNAL.
  absl::StatusOr<std::string> Invoke(const RawHandler& handler,
                                     const CallContext& ctx,
                                     absl::string_view request);
  void Forget(void* call_ctx);
  // An asynchronous call's answer: forgotten, completed, then no longer
  // counted as pending.
  void FinishAsync(void* call_ctx, mcpreg_completion_fn complete,
                   const absl::StatusOr<std::string>& result)
      ABSL_LOCKS_EXCLUDED(mu_);

  HostLog log_;
  absl::flat_hash_map<std::string, Method> handlers_;
  std::vector<std::string> method_names_;
  std::vector<mcpreg_str> method_views_;
  std::vector<const google::protobuf::FileDescriptor*> files_;
  std::string descriptor_set_;

  absl::Mutex mu_;
  absl::flat_hash_map<void*, std::shared_ptr<CallContext>> in_flight_
      ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  // Inline calls running on host threads, and asynchronous calls started but
  // not yet answered; Shutdown waits for both.
  int inline_running_ ABSL_GUARDED_BY(mu_) = 0;
  int async_pending_ ABSL_GUARDED_BY(mu_) = 0;
  WorkerPool pool_;
};

// INVALID_ARGUMENT for a request that does not parse as `method`'s input.
absl::Status InvalidRequest(const google::protobuf::MethodDescriptor* method);

// Serialized FileDescriptorSet of `files` and all they import, dependencies
// first, as protoc --include_imports writes it.
std::string BuildFileDescriptorSet(
    const std::vector<const google::protobuf::FileDescriptor*>& files);

template <typename Request, typename Response>
void PluginInstance::AddMethod(
    const google::protobuf::MethodDescriptor* method,
    std::function<absl::StatusOr<Response>(const CallContext&, const Request&)>
        handler,
    Dispatch dispatch) {
  AddSerializedMethod(
      method,
      [handler = std::move(handler), method](
          const CallContext& ctx,
          absl::string_view bytes) -> absl::StatusOr<std::string> {
        Request request;
        if (!request.ParseFromArray(bytes.data(),
                                    static_cast<int>(bytes.size()))) {
          return InvalidRequest(method);
        }
        absl::StatusOr<Response> response = handler(ctx, request);
        if (!response.ok()) return response.status();
        return response->SerializeAsString();
      },
      dispatch);
}

template <typename Request, typename Response>
void PluginInstance::AddAsyncMethod(
    const google::protobuf::MethodDescriptor* method,
    std::function<void(const CallContext&, const Request&, Reply<Response>)>
        handler,
    std::function<bool(const CallContext&, const Request&,
                       const Reply<Response>&)>
        fast_path) {
  Method m;
  m.async_handler = [handler = std::move(handler), method](
                        const CallContext& ctx, absl::string_view bytes,
                        RawReply reply) {
    Request request;
    if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      reply(InvalidRequest(method));
      return;
    }
    handler(ctx, request, Reply<Response>(std::move(reply)));
  };
  if (fast_path) {
    m.fast_path = [fast_path = std::move(fast_path)](const CallContext& ctx,
                                                     absl::string_view bytes,
                                                     const RawReply& reply) {
      Request request;
      // An invalid request is answered by the handler, on a worker.
      return request.ParseFromArray(bytes.data(),
                                    static_cast<int>(bytes.size())) &&
             fast_path(ctx, request, Reply<Response>(reply));
    };
  }
  AddRawMethod(method, std::move(m));
}

}  // namespace mcpreg::sdk

#endif  // MCPREG_PLUGIN_SDK_PLUGIN_INSTANCE_H_

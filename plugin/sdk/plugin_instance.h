// The C++ side of one plugin instance: a table of unary methods, each run on a
// worker pool or inline on the host's thread, behind the C ABI of
// plugin_abi.h (see abi_glue.h). Handlers
// return absl::Status; this is the one place a Status becomes a wire status,
// and the one place an exception from a handler is caught and made INTERNAL.
#ifndef MCPREG_PLUGIN_SDK_PLUGIN_INSTANCE_H_
#define MCPREG_PLUGIN_SDK_PLUGIN_INSTANCE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "call_context.h"
#include "google/protobuf/descriptor.h"
#include "host_log.h"
#include "mcpreg/plugin_abi.h"
#include "worker_pool.h"

namespace mcpreg::sdk {

// Takes the serialized request, returns the serialized response.
using RawHandler = std::function<absl::StatusOr<std::string>(
    const CallContext&, absl::string_view request)>;

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
  struct Method {
    RawHandler handler;
    Dispatch dispatch;
  };

  void AddRawMethod(const google::protobuf::MethodDescriptor* method,
                    RawHandler handler, Dispatch dispatch);
  int32_t CallInline(const RawHandler& handler, const mcpreg_call_info& info,
                     mcpreg_bytes request, mcpreg_completion_fn complete,
                     void* call_ctx);
  void Run(const RawHandler& handler, std::shared_ptr<CallContext> ctx,
           const std::string& request, mcpreg_completion_fn complete,
           void* call_ctx);
  // The handler's result, with an exception made INTERNAL.
  absl::StatusOr<std::string> Invoke(const RawHandler& handler,
                                     const CallContext& ctx,
                                     absl::string_view request);
  void Forget(void* call_ctx);

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
  // Inline calls running on host threads; Shutdown waits for them.
  int inline_running_ ABSL_GUARDED_BY(mu_) = 0;
  WorkerPool pool_;
};

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
  AddRawMethod(
      method,
      [handler = std::move(handler), method](
          const CallContext& ctx,
          absl::string_view bytes) -> absl::StatusOr<std::string> {
        Request request;
        if (!request.ParseFromArray(bytes.data(),
                                    static_cast<int>(bytes.size()))) {
          return absl::InvalidArgumentError("request is not a valid " +
                                            method->input_type()->full_name() +
                                            " message");
        }
        absl::StatusOr<Response> response = handler(ctx, request);
        if (!response.ok()) return response.status();
        return response->SerializeAsString();
      },
      dispatch);
}

}  // namespace mcpreg::sdk

#endif  // MCPREG_PLUGIN_SDK_PLUGIN_INSTANCE_H_

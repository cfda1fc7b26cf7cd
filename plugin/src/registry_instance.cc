#include "plugin/src/registry_instance.h"

#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.pb.h"
#include "mcpreg/v1/admin.pb.h"
#include "mcpreg/v1/registry.pb.h"
#include "plugin/src/handlers/admin_handlers.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/handlers/catalog_handlers.h"
#include "plugin/src/handlers/governance_handlers.h"
#include "plugin/src/handlers/health_handler.h"
#include "plugin/src/handlers/plugin_info_handler.h"
#include "plugin/src/handlers/register_handler.h"
#include "plugin/src/handlers/server_handlers.h"
#include "plugin/src/packages/package_handlers.h"

namespace mcpreg {
namespace {

sdk::InstanceOptions ToOptions(const config::v1::PluginConfig& config) {
  sdk::InstanceOptions options;
  options.worker_threads = config.worker_threads();
  options.max_queued_calls = config.max_queued_calls();
  return options;
}

}  // namespace

absl::StatusOr<std::unique_ptr<sdk::PluginInstance>> RegistryInstance::Create(
    const mcpreg_host_api* host, absl::string_view config_json) {
  absl::StatusOr<config::v1::PluginConfig> config =
      ParsePluginConfig(config_json);
  if (!config.ok()) return config.status();
  std::unique_ptr<RegistryInstance> instance(
      new RegistryInstance(host, *config));
  // Without a database the instance only identifies itself (GetPluginInfo,
  // health): enough for ABI tests and for probing a host's wiring.
  if (!config->database().conninfo().empty()) {
    absl::StatusOr<std::unique_ptr<RegistryRuntime>> runtime =
        OpenRegistryRuntime(host, *config);
    if (!runtime.ok()) return runtime.status();
    instance->runtime_ = std::move(*runtime);
  }
  instance->AddHandlers();
  instance->log().Info(absl::StrCat(
      "mcpreg instance ready: ", config->worker_threads(), " workers"));
  return instance;
}

RegistryInstance::RegistryInstance(const mcpreg_host_api* host,
                                   const config::v1::PluginConfig& config)
    : sdk::PluginInstance(host, ToOptions(config)), config_(config) {}

void RegistryInstance::AddHandlers() {
  using grpc::health::v1::HealthCheckRequest;
  using grpc::health::v1::HealthCheckResponse;

  // Services come from the generated files' descriptors: the plugin links
  // messages only, not gRPC stubs.
  const auto* registry =
      v1::GetPluginInfoRequest::descriptor()->file()->FindServiceByName(
          "McpRegistry");
  const auto* health = grpc::health::v1::HealthCheckRequest::descriptor()
                           ->file()
                           ->FindServiceByName("Health");

  // The cheapest call, and the benchmark's measure of the ABI hop: it answers
  // bytes serialized once, below, instead of building its method list anew.
  const auto* plugin_info = registry->FindMethodByName("GetPluginInfo");
  AddSerializedMethod(
      plugin_info,
      [this, plugin_info](const sdk::CallContext&, absl::string_view request)
          -> absl::StatusOr<std::string> {
        v1::GetPluginInfoRequest parsed;
        if (!parsed.ParseFromArray(request.data(),
                                   static_cast<int>(request.size()))) {
          return sdk::InvalidRequest(plugin_info);
        }
        return plugin_info_;
      },
      sdk::Dispatch::kInline);  // reads nothing but this instance

  std::vector<std::string> services = {registry->full_name(),
                                       health->full_name()};
  if (runtime_ != nullptr) {
    AddRegistryHandlers();
    AddAdminHandlers();
    services.push_back("mcpreg.v1.McpRegistryAdmin");
    if (runtime_->package_endpoints) {
      AddPackageHandlers();
      services.push_back("mcpreg.v1.PackageRepositories");
    }
  }
  // Reads the probe's latest verdict, never the database: answered inline
  // even while every worker waits for a frozen one. Without a database there
  // is nothing that can fail, so always SERVING.
  const storage::pg::HealthProbe* probe =
      runtime_ != nullptr ? runtime_->health.get() : nullptr;
  AddMethod<HealthCheckRequest, HealthCheckResponse>(
      health->FindMethodByName("Check"),
      [services, probe](const sdk::CallContext& ctx,
                        const HealthCheckRequest& request) {
        return HandleHealthCheck(services, probe == nullptr || probe->serving(),
                                 ctx, request);
      },
      sdk::Dispatch::kInline);
  // Last: the list names every method registered above. Calls come only
  // after Create returns the instance, so none sees it unset.
  plugin_info_ = BuildPluginInfo(MethodNames()).SerializeAsString();
}

namespace {

// Runs `body`, a handler on a worker, with its database work interrupted
// when the host cancels the call (its client went away, or its deadline
// passed): a statement it waits in is cancelled and a wait for a
// connection ends, so the worker and the connection are free at once.
template <typename Body>
auto Interruptible(RegistryRuntime& runtime, const sdk::CallContext& ctx,
                   Body body) {
  auto interrupt =
      std::make_shared<storage::pg::CallInterrupt>(*runtime.canceller);
  storage::pg::ScopedCallInterrupt installed(interrupt.get());
  // Also at the deadline, when the host cancels too: a read is bounded
  // only by the session's 30 s, and a transaction's later statements each
  // by the time that was left at its BEGIN.
  ctx.SetCancelHook([interrupt] { interrupt->Interrupt(); });
  absl::Cleanup unhook = [&ctx] { ctx.ClearCancelHook(); };
  return body();
}

// Binds a handler taking its dependencies to the SDK's typed method
// signature.
template <typename Request, typename Response>
std::function<absl::StatusOr<Response>(const sdk::CallContext&, const Request&)>
Bind(RegistryRuntime* runtime,
     absl::StatusOr<Response> (*handler)(RegistryDependencies&,
                                         const sdk::CallContext&,
                                         const Request&)) {
  return [runtime, handler](const sdk::CallContext& ctx,
                            const Request& request) {
    return Interruptible(*runtime, ctx,
                         [&] { return handler(runtime->deps, ctx, request); });
  };
}

// The same for an asynchronous handler, which answers through its Reply.
template <typename Request, typename Response>
std::function<void(const sdk::CallContext&, const Request&,
                   sdk::Reply<Response>)>
BindAsync(RegistryRuntime* runtime,
          void (*handler)(RegistryDependencies&, const sdk::CallContext&,
                          const Request&, sdk::Reply<Response>)) {
  return [runtime, handler](const sdk::CallContext& ctx, const Request& request,
                            sdk::Reply<Response> reply) {
    Interruptible(*runtime, ctx, [&] {
      handler(runtime->deps, ctx, request, std::move(reply));
    });
  };
}

template <typename Request, typename Response>
std::function<bool(const sdk::CallContext&, const Request&,
                   const sdk::Reply<Response>&)>
BindFastPath(RegistryRuntime* runtime,
             bool (*fast_path)(RegistryDependencies&, const sdk::CallContext&,
                               const Request&, const sdk::Reply<Response>&)) {
  return
      [runtime, fast_path](const sdk::CallContext& ctx, const Request& request,
                           const sdk::Reply<Response>& reply) {
        return fast_path(runtime->deps, ctx, request, reply);
      };
}

}  // namespace

void RegistryInstance::AddRegistryHandlers() {
  const auto* registry =
      v1::GetPluginInfoRequest::descriptor()->file()->FindServiceByName(
          "McpRegistry");
  RegistryRuntime* s = runtime_.get();
  AddMethod(registry->FindMethodByName("RegisterCustomServer"),
            Bind(s, &HandleRegisterCustomServer));
  AddMethod(registry->FindMethodByName("UnregisterCustomServer"),
            Bind(s, &HandleUnregisterCustomServer));
  AddMethod(registry->FindMethodByName("GetServer"), Bind(s, &HandleGetServer));
  AddMethod(registry->FindMethodByName("ListServers"),
            Bind(s, &HandleListServers));
  AddMethod(registry->FindMethodByName("SetToolPolicy"),
            Bind(s, &HandleSetToolPolicy));
  AddMethod(registry->FindMethodByName("GetToolPolicy"),
            Bind(s, &HandleGetToolPolicy));
  AddAsyncMethod(registry->FindMethodByName("CheckToolCall"),
                 BindAsync(s, &HandleCheckToolCall),
                 BindFastPath(s, &AnswerCheckToolCallFromCaches));
  AddAsyncMethod(registry->FindMethodByName("FilterTools"),
                 BindAsync(s, &HandleFilterTools),
                 BindFastPath(s, &AnswerFilterToolsFromCaches));
  AddMethod(registry->FindMethodByName("ListAuditEvents"),
            Bind(s, &HandleListAuditEvents));
  AddMethod(registry->FindMethodByName("VerifyAuditLog"),
            Bind(s, &HandleVerifyAuditLog));
  AddMethod(registry->FindMethodByName("TestToolPolicy"),
            Bind(s, &HandleTestToolPolicy));
  AddMethod(registry->FindMethodByName("ListToolDefinitions"),
            Bind(s, &HandleListToolDefinitions));
  AddMethod(registry->FindMethodByName("ApproveToolDefinitions"),
            Bind(s, &HandleApproveToolDefinitions));
  AddMethod(registry->FindMethodByName("RevokeToolDefinitions"),
            Bind(s, &HandleRevokeToolDefinitions));
  AddMethod(registry->FindMethodByName("ListMyProjects"),
            Bind(s, &HandleListMyProjects));
  AddMethod(registry->FindMethodByName("ListProjectRepositories"),
            Bind(s, &HandleListProjectRepositories));
  AddMethod(registry->FindMethodByName("ListRepositoryFiles"),
            Bind(s, &HandleListRepositoryFiles));
  AddMethod(registry->FindMethodByName("DescribePackage"),
            Bind(s, &HandleDescribePackage));
  AddMethod(registry->FindMethodByName("GetClientConfig"),
            Bind(s, &HandleGetClientConfig));
  AddMethod(registry->FindMethodByName("FetchArtifact"),
            Bind(s, &HandleFetchArtifact));
}

void RegistryInstance::AddAdminHandlers() {
  const auto* admin = v1::Repository::descriptor()->file()->FindServiceByName(
      "McpRegistryAdmin");
  RegistryRuntime* s = runtime_.get();
  AddMethod(admin->FindMethodByName("CreateRepository"),
            Bind(s, &HandleCreateRepository));
  AddMethod(admin->FindMethodByName("ListRepositories"),
            Bind(s, &HandleListRepositories));
  AddMethod(admin->FindMethodByName("CreateToken"),
            Bind(s, &HandleCreateToken));
  AddMethod(admin->FindMethodByName("RevokeToken"),
            Bind(s, &HandleRevokeToken));
  AddMethod(admin->FindMethodByName("ListTokens"), Bind(s, &HandleListTokens));
  AddMethod(admin->FindMethodByName("GrantPermission"),
            Bind(s, &HandleGrantPermission));
  AddMethod(admin->FindMethodByName("RevokePermission"),
            Bind(s, &HandleRevokePermission));
  AddMethod(admin->FindMethodByName("ListGrants"), Bind(s, &HandleListGrants));
}

void RegistryInstance::AddPackageHandlers() {
  const auto* packages =
      v1::PackageRequest::descriptor()->file()->FindServiceByName(
          "PackageRepositories");
  RegistryRuntime* s = runtime_.get();
  AddMethod(packages->FindMethodByName("NpmGet"), Bind(s, &HandleNpmGet));
  AddMethod(packages->FindMethodByName("NpmPublish"),
            Bind(s, &HandleNpmPublish));
  AddMethod(packages->FindMethodByName("PypiGet"), Bind(s, &HandlePypiGet));
  AddMethod(packages->FindMethodByName("PypiUpload"),
            Bind(s, &HandlePypiUpload));
}

}  // namespace mcpreg

// mcpreg-host: loads libmcpreg.so through its C ABI and serves every method it
// describes over gRPC. Exit codes: 0 after a clean stop (SIGTERM/SIGINT),
// 1 when it cannot start (bad config, plugin refused), 2 for bad usage.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "host/grpc_server.h"
#include "host/host_config.h"
#include "host/hosted_instance.h"
#include "host/log.h"
#include "host/plugin_loader.h"
#include "host/rest_gateway.h"

ABSL_FLAG(std::string, config, "", "JSON config file (HostConfig)");
ABSL_FLAG(std::string, plugin, "", "plugin .so to load (overrides pluginPath)");
ABSL_FLAG(std::string, grpc_listen, "",
          "gRPC listen address, e.g. 127.0.0.1:7443 (overrides grpcListen)");
ABSL_FLAG(std::string, rest_listen, "",
          "REST gateway listen address, e.g. 127.0.0.1:8080 (overrides "
          "restListen)");
ABSL_FLAG(std::string, plugin_config, "",
          "JSON object for the plugin (overrides pluginConfig)");

namespace mcpreg::host {
namespace {

std::string ExecutableDir() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

absl::StatusOr<config::v1::HostConfig> BuildConfig() {
  config::v1::HostConfig config;
  if (const std::string path = absl::GetFlag(FLAGS_config); !path.empty()) {
    auto loaded = LoadHostConfig(path);
    if (!loaded.ok()) return loaded.status();
    config = *loaded;
  }
  if (auto v = absl::GetFlag(FLAGS_plugin); !v.empty()) {
    config.set_plugin_path(v);
  }
  if (auto v = absl::GetFlag(FLAGS_grpc_listen); !v.empty()) {
    config.set_grpc_listen(v);
  }
  if (auto v = absl::GetFlag(FLAGS_rest_listen); !v.empty()) {
    config.set_rest_listen(v);
  }
  if (auto v = absl::GetFlag(FLAGS_plugin_config); !v.empty()) {
    auto parsed = ParseHostConfig(absl::StrCat("{\"pluginConfig\":", v, "}"),
                                  "--plugin_config");
    if (!parsed.ok()) return parsed.status();
    *config.mutable_plugin_config() = parsed->plugin_config();
  }
  ApplyHostDefaults(config, ExecutableDir());
  return config;
}

int Fail(const absl::Status& status) {
  std::cerr << "mcpreg-host: " << status.message() << std::endl;
  return 1;
}

int Run() {
  // Block the stop signals before any thread starts so every thread inherits
  // the mask and only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto config = BuildConfig();
  if (!config.ok()) return Fail(config.status());

  auto plugin = LoadedPlugin::Open(config->plugin_path());
  if (!plugin.ok()) return Fail(plugin.status());
  const auto& d = plugin->descriptor();
  LogInfo(absl::StrCat("loaded ", plugin->path(), ": ", d.plugin_name, " ",
                       d.plugin_version, ", plugin ABI ", d.abi_major, ".",
                       d.abi_minor));

  auto instance = HostedInstance::Create(*plugin, PluginConfigJson(*config));
  if (!instance.ok()) return Fail(instance.status());

  auto server = GrpcServer::Start(*config, instance->get());
  if (!server.ok()) return Fail(server.status());
  // Scripts and tests read this line for the bound port.
  std::cout << "mcpreg-host: grpc listening on " << (*server)->address()
            << std::endl;
  LogInfo(absl::StrCat("serving ", (*instance)->methods().size(),
                       " methods on ", (*server)->address(),
                       config->has_tls() ? " (TLS)" : " (plain text)"));

  std::unique_ptr<RestGateway> rest;
  if (!config->rest_listen().empty()) {
    auto started = RestGateway::Start(*config, instance->get());
    if (!started.ok()) return Fail(started.status());
    rest = std::move(*started);
    std::cout << "mcpreg-host: rest listening on " << rest->address()
              << std::endl;
    LogInfo(absl::StrCat("serving ", rest->route_count(), " REST routes on ",
                         rest->address(),
                         config->has_tls() ? " (TLS)" : " (plain HTTP)"));
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  const absl::Duration drain = absl::Milliseconds(config->drain_timeout_ms());
  LogInfo(absl::StrCat("received ", strsignal(signal_number),
                       "; draining in-flight calls for up to ",
                       absl::FormatDuration(drain)));
  if (rest != nullptr) rest->Stop();
  (*server)->Shutdown(drain);
  instance->reset();  // destroys the plugin instance
  LogInfo("stopped");
  return 0;
}

}  // namespace
}  // namespace mcpreg::host

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves the mcpreg plugin over gRPC.\n"
      "Usage: mcpreg-host [--config FILE] [--plugin SO] [--grpc_listen ADDR]");
  absl::ParseCommandLine(argc, argv);
  // Debian builds Abseil without NDEBUG, which leaves Mutex deadlock
  // detection on: a global graph updated under a global lock whenever a
  // thread holding one Mutex takes another — on every call, in every thread.
  // The unit tests keep it on; a serving process should not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return mcpreg::host::Run();
}

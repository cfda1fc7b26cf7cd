// mcpreg: command-line client of the registry over gRPC.
// Exit codes: 0 success, 1 the server answered with an error, 2 bad usage,
// 3 the server could not be reached.
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "mcpreg/v1/registry.grpc.pb.h"

namespace {

constexpr char kUsage[] = R"(usage: mcpreg [--addr HOST:PORT] [--json] COMMAND

Commands:
  info      show the plugin the server runs (name, version, ABI, methods)
  health    ask the server whether it is serving

Options:
  --addr HOST:PORT   server address (default: $MCPREG_ADDR or 127.0.0.1:7443)
  --json             print the response as JSON
  --timeout SECONDS  per-call deadline (default 10)
  -h, --help         this text
)";

struct Options {
  std::string addr;
  bool json = false;
  int timeout_seconds = 10;
  std::string command;
};

int Usage(const std::string& problem) {
  if (!problem.empty()) std::cerr << "mcpreg: " << problem << "\n\n";
  std::cerr << kUsage;
  return 2;
}

int Report(const grpc::Status& status, const Options& options) {
  std::cerr << "mcpreg " << options.command << ": " << status.error_message()
            << " (gRPC status " << status.error_code() << ")\n";
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    std::cerr << "is mcpreg-host running at " << options.addr
              << "? Set --addr or MCPREG_ADDR.\n";
    return 3;
  }
  return 1;
}

void PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, print);
  std::cout << json;
}

std::unique_ptr<grpc::ClientContext> Context(const Options& options) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(options.timeout_seconds));
  return ctx;
}

int Info(const Options& options, const std::shared_ptr<grpc::Channel>& ch) {
  auto stub = mcpreg::v1::McpRegistry::NewStub(ch);
  mcpreg::v1::PluginInfo info;
  grpc::Status status = stub->GetPluginInfo(
      Context(options).get(), mcpreg::v1::GetPluginInfoRequest(), &info);
  if (!status.ok()) return Report(status, options);
  if (options.json) {
    PrintJson(info);
    return 0;
  }
  std::cout << "plugin      " << info.name() << " " << info.version() << "\n"
            << "abi         " << info.abi_major() << "." << info.abi_minor()
            << "\n"
            << "build       " << info.build_type() << ", " << info.compiler()
            << (info.git_revision().empty() ? "" : ", " + info.git_revision())
            << "\n";
  for (const std::string& m : info.methods()) {
    std::cout << "method      " << m << "\n";
  }
  return 0;
}

int Health(const Options& options, const std::shared_ptr<grpc::Channel>& ch) {
  auto stub = grpc::health::v1::Health::NewStub(ch);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status =
      stub->Check(Context(options).get(),
                  grpc::health::v1::HealthCheckRequest(), &response);
  if (!status.ok()) return Report(status, options);
  if (options.json) {
    PrintJson(response);
    return 0;
  }
  std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                   response.status())
            << "\n";
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING
             ? 0
             : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  const char* env_addr = std::getenv("MCPREG_ADDR");
  options.addr = env_addr != nullptr ? env_addr : "127.0.0.1:7443";
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--json") {
      options.json = true;
    } else if (a == "--addr" || a == "--timeout") {
      if (i + 1 >= args.size()) return Usage(a + " needs a value");
      if (a == "--addr") {
        options.addr = args[++i];
      } else {
        options.timeout_seconds = std::atoi(args[++i].c_str());
        if (options.timeout_seconds <= 0) {
          return Usage("--timeout must be a positive number of seconds");
        }
      }
    } else if (!a.empty() && a[0] == '-') {
      return Usage("unknown option " + a);
    } else if (options.command.empty()) {
      options.command = a;
    } else {
      return Usage("unexpected argument " + a);
    }
  }
  if (options.command.empty()) return Usage("no command given");
  auto channel =
      grpc::CreateChannel(options.addr, grpc::InsecureChannelCredentials());
  if (options.command == "info") return Info(options, channel);
  if (options.command == "health") return Health(options, channel);
  return Usage("unknown command " + options.command);
}

#include "tests/support/registry_server.h"

#include <signal.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace mcpreg::testing {

RegistryServer::RegistryServer(bool rest, int max_connections, bool durable,
                               const std::string& host_config,
                               const std::string& plugin_config) {
  cluster_ = std::make_unique<PgCluster>(durable);
  conninfo_ = cluster_->CreateDatabase("registry");
  char tmpl[] = "/tmp/mcpreg-registry-XXXXXX";
  home_ = mkdtemp(tmpl);
  token_file_ = home_ + "/admin-token";
  const std::string config = WriteTempFile(
      ".json",
      absl::StrCat(R"({"pluginConfig": {"database": {"conninfo": ")", conninfo_,
                   R"(", "maxConnections": )", max_connections,
                   R"(}, "storageRoot": ")", home_,
                   R"(/storage", "bootstrap": {"adminTokenFile": ")",
                   token_file_, R"("}, "quickstart": true)",
                   plugin_config.empty() ? "" : ", ", plugin_config, "}",
                   host_config.empty() ? "" : ", ", host_config, "}"));
  std::vector<std::string> args = {"--plugin", PluginPath(),    "--config",
                                   config,     "--grpc_listen", "127.0.0.1:0"};
  if (rest) {
    args.push_back("--rest_listen");
    args.push_back("127.0.0.1:0");
  }
  host_ = std::make_unique<HostProcess>(HostBinary(), args);
  std::optional<std::string> address = host_->WaitForAddress(absl::Seconds(60));
  if (!address.has_value()) {
    error_ = absl::StrCat("mcpreg-host did not start:\n", host_->Stderr());
    return;
  }
  address_ = *address;
  if (rest) {
    std::optional<std::string> rest_address = host_->WaitForLine(
        "mcpreg-host: rest listening on ", absl::Seconds(30));
    if (!rest_address.has_value()) {
      error_ = absl::StrCat("no REST gateway:\n", host_->Stderr());
      return;
    }
    rest_address_ = *rest_address;
  }
  std::ifstream in(token_file_);
  std::stringstream token;
  token << in.rdbuf();
  admin_token_ = std::string(absl::StripAsciiWhitespace(token.str()));
  if (admin_token_.empty()) {
    error_ =
        absl::StrCat("no admin token in ", token_file_, "\n", host_->Stderr());
  }
}

int RegistryServer::Stop() {
  if (stopped_ || host_ == nullptr) return 0;
  stopped_ = true;
  host_->Signal(SIGTERM);
  ExitResult r = host_->Wait(absl::Seconds(20));
  return r.exited ? r.exit_code : -1;
}

RegistryServer::~RegistryServer() {
  Stop();
  host_.reset();
  cluster_.reset();
  if (!home_.empty()) {
    std::system(absl::StrCat("rm -rf '", home_, "'").c_str());
  }
}

}  // namespace mcpreg::testing

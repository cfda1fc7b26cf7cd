// The guard's side of the registry over gRPC: the package to run
// (FetchArtifact) and, for the proxy, each tool call's check (with its
// arguments and the tool's definition digest) and each tool list's filter
// (with the definitions themselves, which the registry records against the
// running version), with the MCP client and the guard's session in every
// request for the audit log.
#ifndef MCPREG_CLI_GUARD_REGISTRY_GATE_H_
#define MCPREG_CLI_GUARD_REGISTRY_GATE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "cli/cli_common.h"
#include "cli/guard/mcp_proxy.h"
#include "mcpreg/v1/registry.grpc.pb.h"

namespace mcpreg::cli {

class RegistryGate : public ToolGate {
 public:
  RegistryGate(const GlobalOptions& options, std::string project,
               std::string server, std::string session_id);

  // The version's metadata (metadata_only) or the chunk at `offset`.
  absl::StatusOr<v1::FetchArtifactResponse> Fetch(const std::string& version,
                                                  uint64_t offset,
                                                  bool metadata_only);

  // The version the guard runs (from Fetch's metadata), sent with every
  // FilterTools so that definitions are recorded against it.
  void SetVersion(const std::string& version);

  // INVALID_ARGUMENT when `arguments_json` is not a JSON object: nothing is
  // asked then.
  absl::StatusOr<Decision> Check(const std::string& tool,
                                 const std::string& arguments_json,
                                 const std::string& digest) override;
  absl::StatusOr<std::vector<ListedTool>> Filter(
      const std::vector<std::string>& tools) override;
  void SetClient(const std::string& name, const std::string& version) override;

 private:
  v1::CallerInfo Caller() const;

  const GlobalOptions& options_;
  const std::string project_;
  const std::string server_;
  const std::string session_id_;
  std::unique_ptr<v1::McpRegistry::Stub> stub_;
  mutable absl::Mutex mu_;
  std::string client_name_ ABSL_GUARDED_BY(mu_);
  std::string client_version_ ABSL_GUARDED_BY(mu_);
  std::string version_ ABSL_GUARDED_BY(mu_);
};

// gRPC's status as absl's (the codes are the same).
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace mcpreg::cli

#endif  // MCPREG_CLI_GUARD_REGISTRY_GATE_H_

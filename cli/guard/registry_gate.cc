#include "cli/guard/registry_gate.h"

#include <algorithm>

namespace mcpreg::cli {
namespace {

// FilterTools takes at most this many names a call.
constexpr size_t kFilterBatch = 1000;

}  // namespace

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

RegistryGate::RegistryGate(const GlobalOptions& options, std::string project,
                           std::string server, std::string session_id)
    : options_(options),
      project_(std::move(project)),
      server_(std::move(server)),
      session_id_(std::move(session_id)),
      stub_(v1::McpRegistry::NewStub(Connect(options))) {}

v1::CallerInfo RegistryGate::Caller() const {
  v1::CallerInfo caller;
  absl::MutexLock lock(&mu_);
  caller.set_client_name(client_name_);
  caller.set_client_version(client_version_);
  caller.set_session_id(session_id_);
  return caller;
}

void RegistryGate::SetClient(const std::string& name,
                             const std::string& version) {
  // The registry takes at most 128 printable bytes of each.
  const auto clean = [](const std::string& s) {
    std::string out;
    for (char c : s.substr(0, 128)) {
      if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
    }
    return out;
  };
  absl::MutexLock lock(&mu_);
  client_name_ = clean(name);
  client_version_ = clean(version);
}

absl::StatusOr<v1::FetchArtifactResponse> RegistryGate::Fetch(
    const std::string& version, uint64_t offset, bool metadata_only) {
  v1::FetchArtifactRequest request;
  request.set_project_key(project_);
  request.set_server(server_);
  request.set_version(version);
  request.set_offset(offset);
  request.set_metadata_only(metadata_only);
  *request.mutable_caller() = Caller();
  v1::FetchArtifactResponse response;
  grpc::Status s =
      stub_->FetchArtifact(CallContext(options_).get(), request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

absl::StatusOr<ToolGate::Decision> RegistryGate::Check(
    const std::string& tool) {
  v1::CheckToolCallRequest request;
  request.set_project_key(project_);
  request.set_server(server_);
  request.set_tool(tool);
  *request.mutable_caller() = Caller();
  v1::CheckToolCallResponse response;
  grpc::Status s =
      stub_->CheckToolCall(CallContext(options_).get(), request, &response);
  if (!s.ok()) return FromGrpc(s);
  return Decision{response.allowed(), response.reason()};
}

absl::StatusOr<std::vector<std::string>> RegistryGate::Allowed(
    const std::vector<std::string>& tools) {
  std::vector<std::string> allowed;
  for (size_t from = 0; from < tools.size() || from == 0;
       from += kFilterBatch) {
    v1::FilterToolsRequest request;
    request.set_project_key(project_);
    request.set_server(server_);
    for (size_t i = from; i < std::min(tools.size(), from + kFilterBatch);
         ++i) {
      request.add_tools(tools[i]);
    }
    *request.mutable_caller() = Caller();
    v1::FilterToolsResponse response;
    grpc::Status s =
        stub_->FilterTools(CallContext(options_).get(), request, &response);
    if (!s.ok()) return FromGrpc(s);
    allowed.insert(allowed.end(), response.allowed_tools().begin(),
                   response.allowed_tools().end());
    if (tools.empty()) break;
  }
  return allowed;
}

}  // namespace mcpreg::cli

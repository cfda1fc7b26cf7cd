#include "cli/guard/registry_gate.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"

namespace mcpreg::cli {
namespace {

// FilterTools takes at most this many definitions a call.
constexpr size_t kFilterBatch = 100;

// A JSON object as a Struct; nothing for anything else.
std::optional<google::protobuf::Struct> ToStruct(const std::string& json,
                                                 std::string* error) {
  google::protobuf::Struct out;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &out);
  if (!status.ok()) {
    *error = std::string(status.message());
    return std::nullopt;
  }
  return out;
}

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

void RegistryGate::SetVersion(const std::string& version) {
  absl::MutexLock lock(&mu_);
  version_ = version;
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
    const std::string& tool, const std::string& arguments_json,
    const std::string& digest) {
  v1::CheckToolCallRequest request;
  request.set_project_key(project_);
  request.set_server(server_);
  request.set_tool(tool);
  if (!arguments_json.empty()) {
    std::string error;
    std::optional<google::protobuf::Struct> arguments =
        ToStruct(arguments_json, &error);
    if (!arguments.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("params.arguments: ", error));
    }
    *request.mutable_arguments() = *std::move(arguments);
  }
  request.set_definition_digest(digest);
  *request.mutable_caller() = Caller();
  v1::CheckToolCallResponse response;
  grpc::Status s =
      stub_->CheckToolCall(CallContext(options_).get(), request, &response);
  if (!s.ok()) return FromGrpc(s);
  return Decision{response.allowed(), response.reason()};
}

absl::StatusOr<std::vector<ToolGate::ListedTool>> RegistryGate::Filter(
    const std::vector<std::string>& tools) {
  // One entry per tool, in order; an entry that is not an object with a
  // name is not sent, and stays not allowed, without a digest.
  std::vector<ListedTool> listed(tools.size());
  std::vector<size_t> sent;  // indexes into `tools`
  std::vector<google::protobuf::Struct> definitions;
  for (size_t i = 0; i < tools.size(); ++i) {
    std::string error;
    std::optional<google::protobuf::Struct> definition =
        ToStruct(tools[i], &error);
    if (!definition.has_value()) continue;
    const auto name = definition->fields().find("name");
    if (name == definition->fields().end() ||
        name->second.kind_case() != google::protobuf::Value::kStringValue ||
        name->second.string_value().empty()) {
      continue;
    }
    listed[i].name = name->second.string_value();
    sent.push_back(i);
    definitions.push_back(*std::move(definition));
  }
  std::string version;
  {
    absl::MutexLock lock(&mu_);
    version = version_;
  }
  // Even a page with nothing to send is asked about once: the registry
  // audits the listing and says whether the server is still registered.
  for (size_t from = 0; from < sent.size() || from == 0; from += kFilterBatch) {
    const size_t to = std::min(sent.size(), from + kFilterBatch);
    v1::FilterToolsRequest request;
    request.set_project_key(project_);
    request.set_server(server_);
    request.set_version(version);
    for (size_t k = from; k < to; ++k) {
      *request.add_definitions() = std::move(definitions[k]);
    }
    *request.mutable_caller() = Caller();
    v1::FilterToolsResponse response;
    grpc::Status s =
        stub_->FilterTools(CallContext(options_).get(), request, &response);
    if (!s.ok()) return FromGrpc(s);
    if (static_cast<size_t>(response.definitions_size()) != to - from) {
      return absl::InternalError(
          absl::StrCat("the registry reported ", response.definitions_size(),
                       " definitions for the ", to - from, " sent"));
    }
    const std::set<std::string> allowed(response.allowed_tools().begin(),
                                        response.allowed_tools().end());
    for (size_t k = from; k < to; ++k) {
      ListedTool& tool = listed[sent[k]];
      const v1::ToolDefinitionStatus& status =
          response.definitions(static_cast<int>(k - from));
      tool.digest = status.digest();
      // Judged entry by entry: `allowed_tools` is by name, and a name may
      // stand for an approved definition and a changed one at once.
      tool.allowed = allowed.count(tool.name) > 0 &&
                     status.approval() != v1::ToolDefinitionStatus::PENDING;
    }
    if (sent.empty()) break;
  }
  // A name listed twice on one page: which definition the server would run
  // is its choice, so neither is shown, and calls of it name no definition
  // (which a pinned server refuses).
  std::map<std::string, int> seen;
  for (const ListedTool& tool : listed) {
    if (!tool.name.empty()) ++seen[tool.name];
  }
  for (ListedTool& tool : listed) {
    if (!tool.name.empty() && seen[tool.name] > 1) {
      tool.allowed = false;
      tool.digest.clear();
    }
  }
  return listed;
}

}  // namespace mcpreg::cli

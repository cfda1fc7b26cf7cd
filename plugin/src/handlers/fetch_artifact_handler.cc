// FetchArtifact: a registered version's package, a chunk at a time, with the
// digest recorded at registration and what a guard needs to run it. The
// first chunk of a fetch is audited before it is handed out.
#include "absl/strings/str_cat.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/handlers/caller_info.h"
#include "plugin/src/handlers/governance_handlers.h"
#include "plugin/src/handlers/server_access.h"
#include "plugin/src/validation/register_validation.h"

namespace mcpreg {
namespace {

constexpr uint32_t kDefaultChunk = 1 << 20;
// Under gRPC's default 4 MiB message limit, with room for the metadata.
constexpr uint32_t kMaxChunk = 3 << 20;

absl::Status ValidateFetch(const v1::FetchArtifactRequest& request) {
  if (request.max_bytes() > kMaxChunk) {
    return absl::InvalidArgumentError(
        absl::StrCat("maxBytes: at most ", kMaxChunk));
  }
  if (!request.version().empty()) {
    if (absl::Status s = ValidateVersion(request.version(), "version");
        !s.ok()) {
      return s;
    }
  }
  return ValidateCallerInfo(request.caller(), "caller");
}

}  // namespace

absl::StatusOr<v1::FetchArtifactResponse> HandleFetchArtifact(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::FetchArtifactRequest& request) {
  CallScope scope(deps, ctx, "artifact.fetch");
  if (absl::Status s = ValidateFetch(request); !s.ok()) return s;
  absl::StatusOr<ServerAccess> access =
      OpenServerForCaller(deps, scope, request.project_key(), request.server(),
                          "projectKey", "server", authz::Permission::kRead);
  if (!access.ok()) return access.status();
  absl::StatusOr<v1::Server> server = deps.servers->GetVersion(
      access->project_key, access->server->server.display_name,
      request.version(), scope.deadline());
  if (!server.ok()) return server.status();
  v1::FetchArtifactResponse response;
  response.set_display_name(server->display_name());
  response.set_package_type(server->package_type());
  *response.mutable_version() = std::move(*server->mutable_versions(0));
  const v1::ServerVersion& version = response.version();
  const uint64_t size = version.artifact_size();
  if (request.offset() > size) {
    return absl::OutOfRangeError(
        absl::StrCat("offset: ", request.offset(),
                     " is past the end of the package (", size, " bytes)"));
  }
  const uint32_t chunk = request.metadata_only()    ? 0
                         : request.max_bytes() == 0 ? kDefaultChunk
                                                    : request.max_bytes();
  absl::StatusOr<std::string> data =
      chunk == 0 ? std::string()
                 : deps.repositories->ReadArtifactRange(
                       version.artifact().repo_key(),
                       version.artifact().repo_path(), request.offset(), chunk);
  if (data.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat(
        "the package registered for ", response.display_name(), " ",
        version.version(), " is no longer at '", version.artifact().repo_path(),
        "' in repository '", version.artifact().repo_key(), "'"));
  }
  if (!data.ok()) return data.status();
  if (request.offset() == 0) {
    // Audited before anything is handed out: a fetch that cannot be
    // recorded does not happen.
    storage::AuditEvent audit = scope.Audit(
        access->principal, access->project_key, response.display_name());
    audit.reason = absl::StrCat("version ", version.version());
    audit.details_json = WithCallerDetails(
        absl::StrCat("{\"version\":\"", version.version(), "\",\"sha256\":\"",
                     version.artifact_sha256(), "\"}"),
        request.caller());
    if (absl::Status s = deps.audit->Append(audit, scope.deadline()); !s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat("the fetch could not be audited, so "
                                       "it is refused: ",
                                       s.message()));
    }
  }
  response.set_offset(request.offset());
  response.set_eof(!request.metadata_only() &&
                   request.offset() + data->size() >= size);
  response.set_data(*std::move(data));
  return response;
}

}  // namespace mcpreg

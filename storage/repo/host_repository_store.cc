#include "storage/repo/host_repository_store.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "plugin/sdk/abi_status.h"
#include "storage/repo/safe_path.h"
#include "storage/repo/sha256.h"

namespace mcpreg::storage {
namespace {

mcpreg_str Str(absl::string_view s) { return {s.data(), s.size()}; }

absl::Status TooLarge(absl::string_view path, uint64_t max_bytes) {
  return absl::ResourceExhaustedError(
      absl::StrCat("'", path, "' is larger than ", max_bytes, " bytes"));
}

// A host that says it wrote more than the room it was given has broken the
// ABI (and perhaps our memory): the read is refused, never trusted or cut.
absl::Status CheckBytesRead(size_t bytes_read, size_t capacity) {
  if (bytes_read <= capacity) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("the host's storage reported ",
                                          bytes_read, " bytes read into ",
                                          capacity, " bytes of room"));
}

absl::Status HostError(int32_t code, absl::string_view what) {
  if (code == MCPREG_STATUS_NOT_FOUND) {
    return absl::NotFoundError(absl::StrCat(what, ": not found"));
  }
  return absl::Status(StatusCodeFromAbi(code),
                      absl::StrCat(what, ": the host's storage failed (status ",
                                   ClampAbiCode(code), ")"));
}

class HostRepositoryStore : public RepositoryStore {
 public:
  explicit HostRepositoryStore(const mcpreg_host_api* host) : host_(host) {}

  absl::StatusOr<RepositoryInfo> GetRepository(absl::string_view key) override {
    mcpreg_repository_info info{};
    info.struct_size = sizeof(info);
    const int32_t code =
        host_->get_repository(host_->host_ctx_host_ptr, Str(key), &info);
    if (code == MCPREG_STATUS_NOT_FOUND) {
      return absl::NotFoundError(
          absl::StrCat("repository '", key, "' does not exist"));
    }
    if (code != MCPREG_STATUS_OK) {
      return HostError(code, absl::StrCat("repository '", key, "'"));
    }
    info.package_type[sizeof(info.package_type) - 1] = '\0';
    info.repo_class[sizeof(info.repo_class) - 1] = '\0';
    info.project_key[sizeof(info.project_key) - 1] = '\0';
    return RepositoryInfo{std::string(key), info.package_type, info.repo_class,
                          info.project_key};
  }

  absl::Status CreateRepository(const RepositoryInfo&) override {
    return absl::UnimplementedError(
        "repositories are managed by the host platform");
  }

  absl::StatusOr<std::vector<RepositoryInfo>> ListRepositories() override {
    return absl::UnimplementedError(
        "repositories are managed by the host platform");
  }

  absl::StatusOr<ArtifactStat> StatArtifact(
      absl::string_view repo_key, absl::string_view path, uint64_t max_bytes,
      const CallDeadline& deadline) override {
    if (absl::Status s = CheckRelativePath(path, "path"); !s.ok()) return s;
    mcpreg_artifact_stat stat{};
    stat.struct_size = sizeof(stat);
    const int32_t code = host_->stat_artifact(host_->host_ctx_host_ptr,
                                              Str(repo_key), Str(path), &stat);
    if (code != MCPREG_STATUS_OK) {
      return HostError(code, absl::StrCat("'", path, "' in '", repo_key, "'"));
    }
    stat.sha256_hex[sizeof(stat.sha256_hex) - 1] = '\0';
    ArtifactStat out{stat.is_regular_file == 1, stat.size_bytes,
                     stat.sha256_hex};
    if (out.is_regular_file && out.size > max_bytes) {
      return TooLarge(path, max_bytes);
    }
    if (out.is_regular_file && out.sha256_hex.empty()) {
      // The host does not know the digest: compute it by reading.
      Sha256 sha;
      absl::Status read = ReadChunks(
          repo_key, path, max_bytes, deadline,
          absl::StrCat("hashing '", path, "'"),
          [&sha](const uint8_t* data, size_t n) { sha.Update(data, n); });
      if (!read.ok()) return read;
      out.sha256_hex = sha.HexDigest();
    }
    return out;
  }

  absl::StatusOr<std::string> ReadArtifact(
      absl::string_view repo_key, absl::string_view path, size_t max_bytes,
      const CallDeadline& deadline) override {
    if (absl::Status s = CheckRelativePath(path, "path"); !s.ok()) return s;
    std::string out;
    absl::Status read =
        ReadChunks(repo_key, path, max_bytes, deadline,
                   absl::StrCat("reading '", path, "'"),
                   [&out](const uint8_t* data, size_t n) {
                     out.append(reinterpret_cast<const char*>(data), n);
                   });
    if (!read.ok()) return read;
    return out;
  }

  absl::StatusOr<std::string> ReadArtifactRange(absl::string_view repo_key,
                                                absl::string_view path,
                                                uint64_t offset,
                                                size_t length) override {
    if (absl::Status s = CheckRelativePath(path, "path"); !s.ok()) return s;
    std::string out(length, '\0');
    size_t done = 0;
    while (done < length) {
      size_t n = 0;
      const int32_t code = host_->read_artifact(
          host_->host_ctx_host_ptr, Str(repo_key), Str(path), offset + done,
          reinterpret_cast<uint8_t*>(out.data()) + done, length - done, &n);
      if (code != MCPREG_STATUS_OK) {
        return HostError(code,
                         absl::StrCat("'", path, "' in '", repo_key, "'"));
      }
      if (n == 0) break;  // the end
      if (absl::Status s = CheckBytesRead(n, length - done); !s.ok()) {
        return s;
      }
      done += n;
    }
    out.resize(done);
    return out;
  }

  absl::Status WriteArtifact(absl::string_view, absl::string_view,
                             absl::string_view) override {
    return absl::UnimplementedError(
        "artifacts are managed by the host platform");
  }

 private:
  // Reads the artifact through the host a chunk at a time, handing each to
  // `consume`, until the host returns none. RESOURCE_EXHAUSTED past
  // `max_bytes`, whatever size the host reported; the deadline is checked
  // before every callback.
  absl::Status ReadChunks(
      absl::string_view repo_key, absl::string_view path, uint64_t max_bytes,
      const CallDeadline& deadline, absl::string_view what,
      const std::function<void(const uint8_t*, size_t)>& consume) {
    std::vector<uint8_t> buffer(1 << 16);
    uint64_t offset = 0;
    for (;;) {
      if (absl::Status s = deadline.Check(what); !s.ok()) return s;
      size_t n = 0;
      const int32_t code = host_->read_artifact(
          host_->host_ctx_host_ptr, Str(repo_key), Str(path), offset,
          buffer.data(), buffer.size(), &n);
      if (code != MCPREG_STATUS_OK) {
        return HostError(code,
                         absl::StrCat("'", path, "' in '", repo_key, "'"));
      }
      if (n == 0) return absl::OkStatus();
      if (absl::Status s = CheckBytesRead(n, buffer.size()); !s.ok()) return s;
      if (offset + n > max_bytes) return TooLarge(path, max_bytes);
      consume(buffer.data(), n);
      offset += n;
    }
  }

  const mcpreg_host_api* host_;
};

}  // namespace

bool HostHasStorage(const mcpreg_host_api* host) {
  return host != nullptr &&
         MCPREG_ABI_HAS_FIELD(mcpreg_host_api, read_artifact,
                              host->struct_size) &&
         host->get_repository != nullptr && host->stat_artifact != nullptr &&
         host->read_artifact != nullptr;
}

std::unique_ptr<RepositoryStore> NewHostRepositoryStore(
    const mcpreg_host_api* host) {
  return std::make_unique<HostRepositoryStore>(host);
}

}  // namespace mcpreg::storage

#include "cli/guard/artifact_cache.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cli/cli_common.h"
#include "cli/guard/unpack.h"
#include "storage/repo/sha256.h"

namespace mcpreg::cli {
namespace {

namespace fs = std::filesystem;

std::string Sha256Of(absl::string_view bytes) {
  storage::Sha256 digest;
  digest.Update(bytes.data(), bytes.size());
  return digest.HexDigest();
}

// Every regular file under `tree` with its digest, by relative path; an
// error for anything else (a symlink, a device) found there.
absl::StatusOr<std::map<std::string, std::string>> Inventory(
    const fs::path& tree) {
  std::map<std::string, std::string> files;
  std::error_code error;
  for (fs::recursive_directory_iterator it(tree, error), end; it != end;
       it.increment(error)) {
    if (error) return absl::InternalError(error.message());
    const fs::file_status st = it->symlink_status();
    if (fs::is_directory(st)) continue;
    const std::string relative = fs::relative(it->path(), tree).string();
    if (!fs::is_regular_file(st)) {
      return absl::DataLossError(
          absl::StrCat("'", relative, "' is not a regular file"));
    }
    files[relative] = Sha256Of(Slurp(it->path()));
  }
  if (error) return absl::InternalError(error.message());
  return files;
}

std::string ManifestText(const std::map<std::string, std::string>& files) {
  std::string out;
  for (const auto& [path, sha] : files)
    absl::StrAppend(&out, sha, "  ", path, "\n");
  return out;
}

}  // namespace

std::string DefaultCacheRoot() {
  if (const char* xdg = getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg) {
    return absl::StrCat(xdg, "/mcpreg");
  }
  const char* home = getenv("HOME");
  return absl::StrCat(home != nullptr && *home ? home : "/tmp",
                      "/.cache/mcpreg");
}

absl::Status ArtifactCache::Verify(const std::string& dir,
                                   const std::string& sha256_hex) {
  const fs::path base(dir);
  if (Sha256Of(Slurp(base / "package")) != sha256_hex) {
    return absl::DataLossError("the cached package lost its digest");
  }
  absl::StatusOr<std::map<std::string, std::string>> files =
      Inventory(base / "tree");
  if (!files.ok()) return files.status();
  if (ManifestText(*files) != Slurp(base / "tree.sha256")) {
    return absl::DataLossError("the unpacked tree differs from its list");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ArtifactCache::Prepare(
    const std::string& sha256_hex, const std::string& file_name,
    const std::function<absl::StatusOr<std::string>()>& fetch,
    const std::function<void(const std::string&)>& notes) {
  if (sha256_hex.size() != 64 ||
      sha256_hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return absl::InvalidArgumentError("the registry gave no SHA-256");
  }
  const std::string dir = absl::StrCat(root_, "/", sha256_hex);
  std::error_code ignored;
  if (fs::exists(dir)) {
    absl::Status intact = Verify(dir, sha256_hex);
    if (intact.ok()) {
      notes("cached");
      return dir + "/tree";
    }
    notes(absl::StrCat("cache entry changed (", intact.message(),
                       "): fetching it again"));
    fs::remove_all(dir, ignored);
  }
  absl::StatusOr<std::string> bytes = fetch();
  if (!bytes.ok()) return bytes.status();
  if (const std::string got = Sha256Of(*bytes); got != sha256_hex) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the package's SHA-256 is ", got, ", not ", sha256_hex,
        " as registered: it changed in its repository since; nothing is run"));
  }
  fs::create_directories(root_, ignored);
  std::string staging = absl::StrCat(root_, "/.staging-XXXXXX");
  if (mkdtemp(staging.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot create a folder in ", root_));
  }
  const auto fail = [&](absl::Status s) {
    fs::remove_all(staging, ignored);
    return s;
  };
  std::ofstream(staging + "/package", std::ios::binary) << *bytes;
  fs::create_directory(staging + "/tree", ignored);
  if (absl::Status s = UnpackPackage(*bytes, file_name, staging + "/tree");
      !s.ok()) {
    return fail(s);
  }
  absl::StatusOr<std::map<std::string, std::string>> files =
      Inventory(staging + "/tree");
  if (!files.ok()) return fail(files.status());
  std::ofstream(staging + "/tree.sha256", std::ios::binary)
      << ManifestText(*files);
  if (rename(staging.c_str(), dir.c_str()) != 0) {
    // Another guard put the same entry in place first: use it.
    fs::remove_all(staging, ignored);
    if (absl::Status intact = Verify(dir, sha256_hex); !intact.ok()) {
      return intact;
    }
  }
  notes("fetched");
  return dir + "/tree";
}

}  // namespace mcpreg::cli

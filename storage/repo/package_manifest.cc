#include "storage/repo/package_manifest.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace mcpreg::storage {
namespace {

// Which manifest a package file holds, by the file name.
enum class Manifest { kPackageJson, kPkgInfo, kWheelMetadata };

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};

absl::Status NotAPackage(absl::string_view why) {
  return absl::FailedPreconditionError(
      absl::StrCat("is not a readable npm or PyPI package: ", why));
}

// The entry path without a leading "./", split in two at the first '/';
// empty when the entry is not exactly one level deep.
std::pair<std::string, std::string> TopDirAndRest(absl::string_view path) {
  absl::ConsumePrefix(&path, "./");
  const size_t slash = path.find('/');
  if (slash == absl::string_view::npos || slash == 0) return {};
  absl::string_view rest = path.substr(slash + 1);
  if (rest.empty() || absl::StrContains(rest, '/')) return {};
  return {std::string(path.substr(0, slash)), std::string(rest)};
}

bool Wanted(Manifest m, absl::string_view path) {
  auto [dir, file] = TopDirAndRest(path);
  if (dir.empty()) return false;
  switch (m) {
    case Manifest::kPackageJson:
      return file == "package.json";
    case Manifest::kPkgInfo:
      return file == "PKG-INFO";
    case Manifest::kWheelMetadata:
      return file == "METADATA" && absl::EndsWith(dir, ".dist-info");
  }
  return false;
}

const char* ManifestName(Manifest m) {
  switch (m) {
    case Manifest::kPackageJson:
      return "package/package.json";
    case Manifest::kPkgInfo:
      return "PKG-INFO";
    case Manifest::kWheelMetadata:
      return "*.dist-info/METADATA";
  }
  return "";
}

// Scans the archive once for the first entry any of `wanted` accepts, in the
// order of preference given. Returns which one and its content.
absl::StatusOr<std::pair<Manifest, std::string>> FindManifest(
    absl::string_view bytes, const std::vector<Manifest>& wanted) {
  std::unique_ptr<archive, ArchiveCloser> a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_zip(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) !=
      ARCHIVE_OK) {
    return NotAPackage(archive_error_string(a.get()) != nullptr
                           ? archive_error_string(a.get())
                           : "unrecognised archive format");
  }
  std::vector<std::pair<Manifest, std::string>> found;
  archive_entry* entry = nullptr;
  for (int scanned = 0;; ++scanned) {
    if (scanned >= kMaxArchiveEntriesScanned) {
      return NotAPackage(absl::StrCat("more than ", kMaxArchiveEntriesScanned,
                                      " entries before its manifest"));
    }
    // Skipping an entry still inflates it: bound what the whole scan may
    // inflate, or a small gzip could cost gigabytes of work.
    if (archive_filter_bytes(a.get(), 0) > kMaxInflatedBytes) {
      return NotAPackage(absl::StrCat("it inflates to more than ",
                                      kMaxInflatedBytes >> 20,
                                      " MiB before its manifest"));
    }
    const int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      return NotAPackage(archive_error_string(a.get()));
    }
    const char* path = archive_entry_pathname(entry);
    if (path == nullptr || archive_entry_filetype(entry) != AE_IFREG) continue;
    for (Manifest m : wanted) {
      if (!Wanted(m, path)) continue;
      if (archive_entry_size(entry) >
          static_cast<la_int64_t>(kMaxManifestBytes)) {
        return NotAPackage(absl::StrCat(path, " is larger than ",
                                        kMaxManifestBytes, " bytes"));
      }
      std::string content;
      char buffer[8192];
      for (;;) {
        const la_ssize_t n = archive_read_data(a.get(), buffer, sizeof(buffer));
        if (n < 0) return NotAPackage(archive_error_string(a.get()));
        if (n == 0) break;
        if (content.size() + static_cast<size_t>(n) > kMaxManifestBytes) {
          return NotAPackage(absl::StrCat(path, " is larger than ",
                                          kMaxManifestBytes, " bytes"));
        }
        content.append(buffer, static_cast<size_t>(n));
      }
      if (m == wanted.front()) return std::make_pair(m, std::move(content));
      found.emplace_back(m, std::move(content));
      break;
    }
  }
  if (!found.empty()) return std::move(found.front());
  std::vector<std::string> names;
  for (Manifest m : wanted) names.push_back(ManifestName(m));
  return NotAPackage(
      absl::StrCat("it holds no ", absl::StrJoin(names, " or ")));
}

absl::StatusOr<PackageManifest> ParsePackageJson(const std::string& json) {
  google::protobuf::Struct doc;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(json, &doc, options).ok()) {
    return NotAPackage("its package.json is not a JSON object");
  }
  const auto text = [&](const char* key) {
    auto it = doc.fields().find(key);
    return it == doc.fields().end() ? std::string() : it->second.string_value();
  };
  PackageManifest m{"npm", "npm tarball", text("name"), text("version"),
                    text("description")};
  if (m.name.empty()) return NotAPackage("its package.json has no \"name\"");
  return m;
}

// PKG-INFO and METADATA are RFC 822 style headers up to the first blank line.
absl::StatusOr<PackageManifest> ParseCoreMetadata(absl::string_view text,
                                                  absl::string_view format) {
  PackageManifest m{"pypi", std::string(format), "", "", ""};
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::ConsumeSuffix(&line, "\r");
    if (line.empty()) break;  // the body (long description) starts here
    if (line.front() == ' ' || line.front() == '\t') continue;
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    const absl::string_view key = line.substr(0, colon);
    const std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    if (absl::EqualsIgnoreCase(key, "Name") && m.name.empty()) m.name = value;
    if (absl::EqualsIgnoreCase(key, "Version") && m.version.empty()) {
      m.version = value;
    }
    if (absl::EqualsIgnoreCase(key, "Summary") && m.description.empty()) {
      m.description = value;
    }
  }
  if (m.name.empty()) {
    return NotAPackage(absl::StrCat("its ", format, " metadata has no Name"));
  }
  return m;
}

}  // namespace

absl::StatusOr<PackageManifest> ReadPackageManifest(absl::string_view file_name,
                                                    absl::string_view bytes) {
  const std::string lower = absl::AsciiStrToLower(file_name);
  std::vector<Manifest> wanted;
  if (absl::EndsWith(lower, ".tgz")) {
    wanted = {Manifest::kPackageJson, Manifest::kPkgInfo};
  } else if (absl::EndsWith(lower, ".tar.gz")) {
    wanted = {Manifest::kPkgInfo, Manifest::kPackageJson};
  } else if (absl::EndsWith(lower, ".whl")) {
    wanted = {Manifest::kWheelMetadata};
  } else if (absl::EndsWith(lower, ".zip")) {
    wanted = {Manifest::kPkgInfo};
  } else {
    return absl::FailedPreconditionError(absl::StrCat(
        "'", file_name,
        "' is not a package file: expected .tgz (npm), .tar.gz (npm or PyPI "
        "sdist), .whl (PyPI wheel) or .zip (PyPI sdist)"));
  }
  absl::StatusOr<std::pair<Manifest, std::string>> found =
      FindManifest(bytes, wanted);
  if (!found.ok()) return found.status();
  switch (found->first) {
    case Manifest::kPackageJson:
      return ParsePackageJson(found->second);
    case Manifest::kPkgInfo:
      return ParseCoreMetadata(found->second, "sdist");
    case Manifest::kWheelMetadata:
      return ParseCoreMetadata(found->second, "wheel");
  }
  return absl::InternalError("unreachable");
}

}  // namespace mcpreg::storage

#include "storage/repo/package_manifest.h"

#include <memory>
#include <optional>
#include <utility>
#include <vector>

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
    absl::string_view bytes, ArchiveKind kind,
    const std::vector<Manifest>& wanted, const CallDeadline& deadline,
    const ArchiveLimits& limits) {
  absl::StatusOr<std::unique_ptr<BoundedArchiveReader>> reader =
      BoundedArchiveReader::Open(bytes, kind, deadline, limits);
  if (!reader.ok()) return reader.status();
  std::vector<std::pair<Manifest, std::string>> found;
  for (;;) {
    absl::StatusOr<std::optional<ArchiveEntryHeader>> entry = (*reader)->Next();
    if (!entry.ok()) return entry.status();
    if (!entry->has_value()) break;
    const ArchiveEntryHeader& header = **entry;
    if (header.path.empty() || !header.is_regular_file) continue;
    for (Manifest m : wanted) {
      if (!Wanted(m, header.path)) continue;
      absl::StatusOr<std::string> content =
          (*reader)->ReadContent(kMaxManifestBytes);
      if (!content.ok()) return content.status();
      if (m == wanted.front()) return std::make_pair(m, *std::move(content));
      found.emplace_back(m, *std::move(content));
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

absl::StatusOr<PackageManifest> ReadPackageManifest(
    absl::string_view file_name, absl::string_view bytes,
    const CallDeadline& deadline, const ArchiveLimits& limits) {
  const std::string lower = absl::AsciiStrToLower(file_name);
  std::vector<Manifest> wanted;
  ArchiveKind kind = ArchiveKind::kTarGz;
  if (absl::EndsWith(lower, ".tgz")) {
    wanted = {Manifest::kPackageJson, Manifest::kPkgInfo};
  } else if (absl::EndsWith(lower, ".tar.gz")) {
    wanted = {Manifest::kPkgInfo, Manifest::kPackageJson};
  } else if (absl::EndsWith(lower, ".whl")) {
    wanted = {Manifest::kWheelMetadata};
    kind = ArchiveKind::kZip;
  } else if (absl::EndsWith(lower, ".zip")) {
    wanted = {Manifest::kPkgInfo};
    kind = ArchiveKind::kZip;
  } else {
    return absl::FailedPreconditionError(absl::StrCat(
        "'", file_name,
        "' is not a package file: expected .tgz (npm), .tar.gz (npm or PyPI "
        "sdist), .whl (PyPI wheel) or .zip (PyPI sdist)"));
  }
  absl::StatusOr<std::pair<Manifest, std::string>> found =
      FindManifest(bytes, kind, wanted, deadline, limits);
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

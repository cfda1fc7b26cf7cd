// PyPI local repositories at /api/pypi/<repoKey>/ (docs/repositories.md):
//   POST /                        the legacy upload API (twine upload)
//   GET  /simple/                 PEP 503 HTML or PEP 691 JSON: projects
//   GET  /simple/<project>/       the project's files, #sha256= fragments
//   GET  /packages/<path>         a file
// Storage: <normalized-name>/<version>/<filename>.
#include <algorithm>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "plugin/sdk/status_details.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/packages/digests.h"
#include "plugin/src/packages/multipart.h"
#include "plugin/src/packages/package_access.h"
#include "plugin/src/packages/package_handlers.h"
#include "plugin/src/packages/package_layout.h"
#include "storage/repo/package_manifest.h"
#include "storage/repo/safe_path.h"

namespace mcpreg {
namespace {

using google::protobuf::Struct;

constexpr size_t kMaxNameBytes = 128;
constexpr size_t kMaxVersionBytes = 64;
constexpr size_t kMaxFilenameBytes = 255;
constexpr size_t kMaxFilesListed = 10000;
constexpr char kJsonType[] = "application/vnd.pypi.simple.v1+json";

// PEP 508 names: letters, digits, '-', '_', '.', starting and ending with a
// letter or digit.
bool IsProjectName(absl::string_view n) {
  if (n.empty() || n.size() > kMaxNameBytes ||
      !absl::ascii_isalnum(n.front()) || !absl::ascii_isalnum(n.back())) {
    return false;
  }
  for (char c : n) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

// PEP 503: lower case, runs of '-', '_', '.' as one '-'.
std::string Normalize(absl::string_view n) {
  std::string out;
  for (char c : n) {
    if (c == '-' || c == '_' || c == '.') {
      if (out.empty() || out.back() != '-') out += '-';
    } else {
      out += absl::ascii_tolower(c);
    }
  }
  return out;
}

absl::Status CheckVersion(absl::string_view v) {
  bool ok = !v.empty() && v.size() <= kMaxVersionBytes &&
            absl::ascii_isalnum(v.front());
  for (char c : v) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '+' && c != '!' &&
        c != '-' && c != '_') {
      ok = false;
    }
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        "version: must be a PEP 440 version (letters, digits, '.', '+', '!', "
        "'-', '_'; at most 64)");
  }
  return absl::OkStatus();
}

// Digits without their leading zeros ("0" stays).
std::string Number(absl::string_view digits) {
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  return std::string(digits);
}

// PEP 440's normal form, the one pip compares by: lower case, no leading
// 'v', numbers without leading zeros, alpha/beta/c/pre/preview spelled
// a/b/rc, rev/r as post, "-1" as .post1, implied 0s written out, separators
// as PEP 440 writes them (1.0rc1, 1.0.post1, 1.0.dev1, +local.parts).
// A version that is not PEP 440 is only lower-cased.
std::string CanonicalVersion(absl::string_view raw) {
  const std::string lower = absl::AsciiStrToLower(raw);
  absl::string_view v = lower;
  absl::ConsumePrefix(&v, "v");
  std::string out;
  size_t i = 0;
  const auto digits = [&] {
    const size_t start = i;
    while (i < v.size() && absl::ascii_isdigit(v[i])) ++i;
    return v.substr(start, i - start);
  };
  const auto separator = [&] {
    if (i < v.size() && (v[i] == '.' || v[i] == '-' || v[i] == '_')) ++i;
  };
  const auto word = [&](std::initializer_list<absl::string_view> words) {
    for (absl::string_view w : words) {  // longest spellings first
      if (v.substr(i, w.size()) == w) {
        i += w.size();
        return true;
      }
    }
    return false;
  };
  absl::string_view n = digits();
  if (n.empty()) return lower;
  if (i < v.size() && v[i] == '!') {
    if (Number(n) != "0") absl::StrAppend(&out, Number(n), "!");
    ++i;
    n = digits();
    if (n.empty()) return lower;
  }
  absl::StrAppend(&out, Number(n));
  while (i + 1 < v.size() && v[i] == '.' && absl::ascii_isdigit(v[i + 1])) {
    ++i;
    absl::StrAppend(&out, ".", Number(digits()));
  }
  const auto numbered = [&](absl::string_view label) {
    separator();
    absl::string_view number = digits();
    absl::StrAppend(&out, label, number.empty() ? "0" : Number(number));
  };
  size_t mark = i;
  separator();
  if (word({"alpha", "a"})) {
    numbered("a");
  } else if (word({"beta", "b"})) {
    numbered("b");
  } else if (word({"preview", "pre", "rc", "c"})) {
    numbered("rc");
  } else {
    i = mark;
  }
  mark = i;
  if (i + 1 < v.size() && v[i] == '-' && absl::ascii_isdigit(v[i + 1])) {
    ++i;
    absl::StrAppend(&out, ".post", Number(digits()));
  } else {
    separator();
    if (word({"post", "rev", "r"})) {
      numbered(".post");
    } else {
      i = mark;
    }
  }
  mark = i;
  separator();
  if (word({"dev"})) {
    numbered(".dev");
  } else {
    i = mark;
  }
  if (i < v.size() && v[i] == '+') {
    ++i;
    std::string local;
    for (absl::string_view part :
         absl::StrSplit(v.substr(i), absl::ByAnyChar(".-_"))) {
      if (part.empty()) return lower;
      for (char c : part) {
        if (!absl::ascii_isalnum(c)) return lower;
      }
      absl::StrAppend(
          &local, local.empty() ? "+" : ".",
          absl::ascii_isdigit(part[0]) &&
                  std::all_of(part.begin(), part.end(), absl::ascii_isdigit)
              ? Number(part)
              : std::string(part));
    }
    out += local;
    i = v.size();
  }
  return i == v.size() ? out : lower;
}

// Versions pip takes for one: canonical, trailing ".0"s of the release
// dropped (1.0 == 1.0.0).
std::string ReleaseKey(absl::string_view version) {
  std::string c = CanonicalVersion(version);
  size_t end = 0;
  while (end < c.size() &&
         (absl::ascii_isdigit(c[end]) || c[end] == '.' || c[end] == '!')) {
    ++end;
  }
  std::string release = c.substr(0, end);
  while (absl::EndsWith(release, ".0")) release.resize(release.size() - 2);
  return release + c.substr(end);
}

// A distribution file name's parts: project and version as spelled, and
// what follows the version ("-py3-none-any.whl", ".tar.gz", ".zip").
struct DistributionName {
  std::string project, version, tail;
  bool sdist = false;
};

// A distribution's file name: one path component of safe characters,
// an sdist (.tar.gz, .zip) or a wheel (.whl) whose project part is the
// project's (compared normalized) and whose version part is `version`
// (compared canonical, when given).
absl::StatusOr<DistributionName> CheckFilename(absl::string_view f,
                                               absl::string_view normalized,
                                               absl::string_view version = "") {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "content: filename '", absl::CHexEscape(f.substr(0, 300)), "' ", why));
  };
  if (f.empty() || f.size() > kMaxFilenameBytes || f.front() == '.') {
    return bad("must be 1-255 characters, not starting with '.'");
  }
  for (char c : f) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && c != '_' &&
        c != '+' && c != '!') {
      return bad("may hold only letters, digits, '.', '-', '_', '+', '!'");
    }
  }
  DistributionName d;
  if (absl::EndsWith(f, ".whl")) {
    std::vector<absl::string_view> parts = absl::StrSplit(f, '-');
    if (parts.size() < 5) return bad("is not a wheel's name-version-tags");
    d.project = std::string(parts[0]);
    d.version = std::string(parts[1]);
    d.tail = std::string(f.substr(parts[0].size() + 1 + parts[1].size()));
  } else if (absl::EndsWith(f, ".tar.gz") || absl::EndsWith(f, ".zip")) {
    const size_t suffix = absl::EndsWith(f, ".zip") ? 4 : 7;
    const absl::string_view stem = f.substr(0, f.size() - suffix);
    const size_t dash = stem.rfind('-');
    if (dash == absl::string_view::npos) return bad("names no version");
    d.project = std::string(stem.substr(0, dash));
    d.version = std::string(stem.substr(dash + 1));
    d.tail = std::string(f.substr(f.size() - suffix));
    d.sdist = true;
  } else {
    return bad("is not a wheel (.whl) or an sdist (.tar.gz, .zip)");
  }
  if (Normalize(d.project) != normalized) {
    return bad(absl::StrCat("is not a distribution of '", normalized, "'"));
  }
  if (!version.empty() &&
      CanonicalVersion(d.version) != CanonicalVersion(version)) {
    return bad(absl::StrCat("is not version ", version));
  }
  return d;
}

// The name pip tells a file apart by: normalized project, the version as
// ReleaseKey, the rest in lower case.
std::string CanonicalFilename(const DistributionName& d) {
  return absl::StrCat(Normalize(d.project), "-", ReleaseKey(d.version),
                      absl::AsciiStrToLower(d.tail));
}

std::string HtmlEscape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// PEP 691 content negotiation, simplified: JSON when the client names the
// JSON type (pip does, before HTML), else PEP 503 HTML.
bool WantsJson(const sdk::CallContext& ctx) {
  return absl::StrContains(ctx.Header("accept"), kJsonType);
}

google::api::HttpBody Body(std::string content_type, std::string data) {
  google::api::HttpBody body;
  body.set_content_type(std::move(content_type));
  body.set_data(std::move(data));
  return body;
}

google::api::HttpBody JsonBody(const Struct& s) {
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(s, &json);
  return Body(kJsonType, std::move(json));
}

void SetMeta(Struct& s) {
  (*(*s.mutable_fields())["meta"]
        .mutable_struct_value()
        ->mutable_fields())["api-version"]
      .set_string_value("1.0");
}

// A file is <project>/<version>/<filename>: exactly three components.
bool IsDistributionPath(absl::string_view path) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  return parts.size() == 3 && IsProjectName(parts[0]) &&
         Normalize(parts[0]) == parts[0] &&
         CheckFilename(parts[2], parts[0], parts[1]).ok();
}

absl::StatusOr<google::api::HttpBody> ProjectIndex(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const storage::CallDeadline& deadline, const std::string& repo_key) {
  absl::StatusOr<storage::ArtifactListing> listing =
      deps.repositories->ListArtifacts(repo_key, "", kMaxFilesListed, deadline);
  if (!listing.ok()) return listing.status();
  std::set<std::string> projects;
  for (const storage::ArtifactEntry& file : listing->files) {
    if (IsDistributionPath(file.path)) {
      projects.insert(file.path.substr(0, file.path.find('/')));
    }
  }
  if (WantsJson(ctx)) {
    Struct s;
    SetMeta(s);
    auto& list = *(*s.mutable_fields())["projects"].mutable_list_value();
    for (const std::string& p : projects) {
      (*list.add_values()->mutable_struct_value()->mutable_fields())["name"]
          .set_string_value(p);
    }
    return JsonBody(s);
  }
  std::string html =
      "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" "
      "content=\"1.0\"><title>Simple index</title></head><body>\n";
  for (const std::string& p : projects) {
    absl::StrAppend(&html, "<a href=\"/api/pypi/", repo_key, "/simple/", p,
                    "/\">", HtmlEscape(p), "</a><br/>\n");
  }
  html += "</body></html>\n";
  return Body("text/html; charset=utf-8", std::move(html));
}

absl::StatusOr<google::api::HttpBody> ProjectPage(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const storage::CallDeadline& deadline, const std::string& repo_key,
    absl::string_view name) {
  if (!IsProjectName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("project: '", absl::CHexEscape(name.substr(0, 300)),
                     "' is not a PEP 508 project name"));
  }
  const std::string project = Normalize(name);
  absl::StatusOr<storage::ArtifactListing> listing =
      deps.repositories->ListArtifacts(repo_key, project + "/", kMaxFilesListed,
                                       deadline);
  if (!listing.ok()) return listing.status();
  struct File {
    std::string filename, url, sha256;
  };
  std::vector<File> files;
  for (const storage::ArtifactEntry& file : listing->files) {
    if (!IsDistributionPath(file.path)) continue;
    absl::StatusOr<storage::ArtifactStat> stat =
        deps.repositories->StatArtifact(repo_key, file.path,
                                        deps.max_artifact_bytes, deadline);
    if (!stat.ok()) continue;  // too large to serve, or gone meanwhile
    files.push_back(
        {file.path.substr(file.path.rfind('/') + 1),
         absl::StrCat("/api/pypi/", repo_key, "/packages/", file.path),
         stat->sha256_hex});
  }
  if (files.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "project '", project, "' is not in repository '", repo_key, "'"));
  }
  if (WantsJson(ctx)) {
    Struct s;
    SetMeta(s);
    (*s.mutable_fields())["name"].set_string_value(project);
    auto& list = *(*s.mutable_fields())["files"].mutable_list_value();
    for (const File& f : files) {
      auto& e = *list.add_values()->mutable_struct_value()->mutable_fields();
      e["filename"].set_string_value(f.filename);
      e["url"].set_string_value(f.url);
      (*e["hashes"].mutable_struct_value()->mutable_fields())["sha256"]
          .set_string_value(f.sha256);
    }
    return JsonBody(s);
  }
  std::string html = absl::StrCat(
      "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" "
      "content=\"1.0\"><title>Links for ",
      HtmlEscape(project), "</title></head><body>\n<h1>Links for ",
      HtmlEscape(project), "</h1>\n");
  for (const File& f : files) {
    absl::StrAppend(&html, "<a href=\"", HtmlEscape(f.url),
                    "#sha256=", f.sha256, "\">", HtmlEscape(f.filename),
                    "</a><br/>\n");
  }
  html += "</body></html>\n";
  return Body("text/html; charset=utf-8", std::move(html));
}

// The file's own metadata (PKG-INFO, METADATA) must name the project and
// version uploaded: registration reads the name from the file, and pip
// installs what the file holds, whatever the form said.
absl::Status CheckDistributionContents(const std::string& filename,
                                       const std::string& bytes,
                                       const std::string& project,
                                       const std::string& version,
                                       const storage::CallDeadline& deadline) {
  absl::StatusOr<storage::PackageManifest> own =
      storage::ReadPackageManifest(filename, bytes, deadline);
  if (!own.ok()) {
    const absl::StatusCode code = own.status().code();
    if (code != absl::StatusCode::kFailedPrecondition &&
        code != absl::StatusCode::kResourceExhausted) {
      return own.status();
    }
    const std::string why =
        absl::StrCat("content: ", filename, " ", own.status().message());
    return code == absl::StatusCode::kFailedPrecondition
               ? absl::InvalidArgumentError(why)
               : AsTooLarge(absl::ResourceExhaustedError(why));
  }
  if (own->package_type != "pypi") {
    return absl::InvalidArgumentError(
        absl::StrCat("content: ", filename,
                     " is not a PyPI distribution (no PKG-INFO or "
                     "METADATA)"));
  }
  if (Normalize(own->name) != project) {
    return absl::InvalidArgumentError(
        absl::StrCat("content: ", filename, "'s metadata Name is '",
                     absl::CHexEscape(own->name.substr(0, 300)),
                     "', not project '", project, "'"));
  }
  if (CanonicalVersion(own->version) != CanonicalVersion(version)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "content: ", filename, "'s metadata Version is '",
        absl::CHexEscape(own->version.substr(0, 100)), "', not ", version));
  }
  return absl::OkStatus();
}

// What the release already holds must leave room for the file: no file
// of the same canonical name (MCP_Server-1.0.0.tar.gz is
// mcp_server-1.0.0.tar.gz to pip), one sdist, and no other folder of the
// same version (1.0 is 1.0.0 to pip).
absl::Status CheckRelease(RegistryDependencies& deps,
                          const std::string& repo_key,
                          const std::string& project, const std::string& folder,
                          const DistributionName& file,
                          const std::string& filename,
                          const storage::CallDeadline& deadline) {
  absl::StatusOr<storage::ArtifactListing> listing =
      deps.repositories->ListArtifacts(repo_key, project + "/", kMaxFilesListed,
                                       deadline);
  if (!listing.ok()) return listing.status();
  if (listing->truncated) {
    return absl::FailedPreconditionError(
        absl::StrCat("project '", project, "' holds more than ",
                     kMaxFilesListed, " files; no more are accepted"));
  }
  const std::string key = ReleaseKey(folder);
  const std::string canonical = CanonicalFilename(file);
  for (const storage::ArtifactEntry& entry : listing->files) {
    std::vector<std::string> parts = absl::StrSplit(entry.path, '/');
    if (parts.size() != 3 || ReleaseKey(parts[1]) != key) continue;
    absl::StatusOr<DistributionName> other = CheckFilename(parts[2], project);
    if (!other.ok()) continue;
    if (parts[1] != folder) {
      return absl::AlreadyExistsError(absl::StrCat(
          "version ", folder, " of '", project, "' is already published as ",
          parts[1], ", which pip takes for the same version"));
    }
    if (CanonicalFilename(*other) == canonical) {
      return absl::AlreadyExistsError(
          absl::StrCat(filename, ": ", parts[2],
                       " is already published in repository '", repo_key,
                       "' and pip takes the two for one file; a published file "
                       "is never replaced"));
    }
    if (other->sdist && file.sdist) {
      return absl::AlreadyExistsError(absl::StrCat(
          filename, ": release ", folder, " of '", project,
          "' already has an sdist (", parts[2], "); one per release"));
    }
  }
  return absl::OkStatus();
}

// The first part named `name` (multimap::find may return any of them).
const packages::FormPart* FirstPart(
    const std::multimap<std::string, packages::FormPart>& f,
    const std::string& name) {
  auto it = f.equal_range(name).first;
  return it == f.end() || it->first != name ? nullptr : &it->second;
}

std::string FirstField(const std::multimap<std::string, packages::FormPart>& f,
                       const std::string& name) {
  const packages::FormPart* part = FirstPart(f, name);
  return part == nullptr ? std::string() : part->content;
}

}  // namespace

absl::StatusOr<google::api::HttpBody> HandlePypiGet(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::PackageRequest& request) {
  CallScope scope(deps, ctx, "package.read");
  std::string principal;
  absl::StatusOr<storage::RepositoryInfo> repo =
      OpenPackageRepository(deps, scope, request.repo_key(), "pypi",
                            authz::Permission::kRead, &principal);
  if (!repo.ok()) return repo.status();
  const storage::CallDeadline deadline(scope.deadline(),
                                       [&ctx] { return ctx.cancelled(); });
  absl::string_view path = request.path();
  if (path == "simple") {
    return ProjectIndex(deps, ctx, deadline, repo->key);
  }
  if (absl::ConsumePrefix(&path, "simple/")) {
    return ProjectPage(deps, ctx, deadline, repo->key, path);
  }
  if (absl::ConsumePrefix(&path, "packages/")) {
    if (absl::Status s = storage::CheckRelativePath(path, "path"); !s.ok()) {
      return s;
    }
    if (!IsDistributionPath(path)) {
      return absl::NotFoundError(
          absl::StrCat("no distribution at '", path, "'"));
    }
    absl::StatusOr<std::string> bytes = deps.repositories->ReadArtifact(
        repo->key, std::string(path), deps.max_artifact_bytes, deadline);
    if (!bytes.ok()) return bytes.status();
    return Body("application/octet-stream", std::move(*bytes));
  }
  return absl::NotFoundError(absl::StrCat(
      "no such PyPI endpoint: '", absl::CHexEscape(path.substr(0, 300)),
      "' (simple/, simple/<project>/, packages/<path>)"));
}

absl::StatusOr<google::api::HttpBody> HandlePypiUpload(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::PackageRequest& request) {
  CallScope scope(deps, ctx, "package.publish");
  std::string principal;
  absl::StatusOr<storage::RepositoryInfo> repo =
      OpenPackageRepository(deps, scope, request.repo_key(), "pypi",
                            authz::Permission::kDeploy, &principal);
  if (!repo.ok()) return repo.status();
  if (!request.path().empty()) {
    return absl::NotFoundError(absl::StrCat(
        "uploads go to /api/pypi/", repo->key, "/, not to a path below it"));
  }
  absl::StatusOr<std::multimap<std::string, packages::FormPart>> form =
      packages::ParseMultipart(request.body().content_type(),
                               request.body().data());
  if (!form.ok()) return form.status();
  if (FirstField(*form, ":action") != "file_upload") {
    return absl::InvalidArgumentError(":action: must be file_upload");
  }
  const std::string name = FirstField(*form, "name");
  if (!IsProjectName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: '", absl::CHexEscape(name.substr(0, 300)),
                     "' is not a PEP 508 project name"));
  }
  const std::string version = FirstField(*form, "version");
  if (absl::Status s = CheckVersion(version); !s.ok()) return s;
  const packages::FormPart* content = FirstPart(*form, "content");
  if (content == nullptr || content->filename.empty()) {
    return absl::InvalidArgumentError("content: the file is missing");
  }
  const std::string& filename = content->filename;
  const std::string project = Normalize(name);
  absl::StatusOr<DistributionName> parsed =
      CheckFilename(filename, project, version);
  if (!parsed.ok()) return parsed.status();
  const std::string& bytes = content->content;
  if (bytes.size() > deps.max_artifact_bytes) {
    return AsTooLarge(absl::ResourceExhaustedError(absl::StrCat(
        "content: larger than ", deps.max_artifact_bytes, " bytes")));
  }
  const std::string expected =
      absl::AsciiStrToLower(FirstField(*form, "sha256_digest"));
  if (expected.empty()) {
    return absl::InvalidArgumentError(
        "sha256_digest: required (the SHA-256 of content, in hex)");
  }
  const std::string sha256 = packages::Sha256Hex(bytes);
  if (expected != sha256) {
    return absl::InvalidArgumentError(
        "sha256_digest: does not match the uploaded file; nothing stored");
  }
  const storage::CallDeadline deadline(scope.deadline(),
                                       [&ctx] { return ctx.cancelled(); });
  if (absl::Status s = CheckDistributionContents(filename, bytes, project,
                                                 version, deadline);
      !s.ok()) {
    return s;
  }
  // One folder per version as pip compares them (1.0.0RC1 is 1.0.0rc1).
  const std::string folder = CanonicalVersion(version);
  const std::string path = packages::PypiPath(project, folder, filename);
  if (absl::Status s = storage::CheckRelativePath(path, "path"); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRelease(deps, repo->key, project, folder, *parsed,
                                    filename, deadline);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          deps.repositories->PublishArtifact(repo->key, path, bytes);
      !s.ok()) {
    if (s.code() == absl::StatusCode::kAlreadyExists) {
      return absl::AlreadyExistsError(
          absl::StrCat(filename, " is already published in repository '",
                       repo->key, "'; a published file is never replaced"));
    }
    return s;
  }
  AuditPublish(deps, scope, principal, *repo, path, sha256);
  Struct answer;
  auto& f = *answer.mutable_fields();
  f["ok"].set_bool_value(true);
  f["repoKey"].set_string_value(repo->key);
  f["repoPath"].set_string_value(path);
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(answer, &json);
  return Body("application/json", std::move(json));
}

}  // namespace mcpreg

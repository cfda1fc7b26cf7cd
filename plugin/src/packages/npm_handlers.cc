// npm local repositories at /api/npm/<repoKey>/ (docs/repositories.md):
//   PUT /<name>                      npm publish (package document with the
//                                    tarball attached)
//   GET /<name>, /@scope%2fname      the packument, built from storage
//   GET /<name>/-/<base>-<ver>.tgz   the tarball
// Storage: <name>/-/<base>-<version>.tgz (the tarball URL's own path) and
// beside it <base>-<version>.json, the version's manifest as published.
#include <map>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "plugin/sdk/status_details.h"
#include "plugin/src/handlers/call_scope.h"
#include "plugin/src/packages/digests.h"
#include "plugin/src/packages/package_access.h"
#include "plugin/src/packages/package_handlers.h"
#include "plugin/src/packages/package_layout.h"
#include "storage/repo/package_manifest.h"
#include "storage/repo/package_version.h"
#include "storage/repo/safe_path.h"

namespace mcpreg {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr size_t kMaxNameBytes = 214;  // npm's own limit
constexpr size_t kMaxVersionBytes = 64;
constexpr size_t kMaxManifestBytes = 1 << 20;
constexpr size_t kMaxVersionsListed = 1000;

// npm's rule for new package names: lower case, URL-safe, optionally
// scoped; no leading '.' or '_' (so no "..").
bool IsNameSegment(absl::string_view s) {
  if (s.empty() || s[0] == '.' || s[0] == '_') return false;
  for (char c : s) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' ||
          c == '.' || c == '_' || c == '~')) {
      return false;
    }
  }
  return true;
}

absl::Status CheckPackageName(absl::string_view name, absl::string_view field) {
  bool ok = !name.empty() && name.size() <= kMaxNameBytes;
  if (ok && name[0] == '@') {
    const size_t slash = name.find('/');
    ok = slash != absl::string_view::npos &&
         IsNameSegment(name.substr(1, slash - 1)) &&
         IsNameSegment(name.substr(slash + 1));
  } else if (ok) {
    ok = IsNameSegment(name);
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": '", absl::CHexEscape(name.substr(0, 300)),
        "' is not an npm package name (at most 214 characters: lower-case "
        "letters, digits, '-', '.', '_', '~', optionally @scope/)"));
  }
  return absl::OkStatus();
}

// SemVer 2.0 as published here: MAJOR.MINOR.PATCH and an optional
// -pre.release of non-empty dot-separated identifiers (numeric ones without
// leading zeros). No +build metadata: SemVer gives 1.0.0+x the precedence
// of 1.0.0, so it could sit beside a published version and shadow it.
absl::Status CheckSemVer(absl::string_view v, absl::string_view field) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", absl::CHexEscape(v.substr(0, 100)),
                     "' is not a SemVer version (1.2.3, 1.2.3-beta.1): ", why));
  };
  if (v.empty() || v.size() > kMaxVersionBytes) {
    return bad(absl::StrCat("must be 1-", kMaxVersionBytes, " characters"));
  }
  if (absl::StrContains(v, '+')) {
    return bad(
        "build metadata (+...) is not accepted: it would have the precedence "
        "of the version without it");
  }
  size_t i = 0;
  for (int part = 0; part < 3; ++part) {
    const size_t start = i;
    while (i < v.size() && absl::ascii_isdigit(v[i])) ++i;
    if (i == start || (v[start] == '0' && i - start > 1)) {
      return bad("MAJOR.MINOR.PATCH must be numbers without leading zeros");
    }
    if (part < 2) {
      if (i >= v.size() || v[i] != '.') return bad("needs MAJOR.MINOR.PATCH");
      ++i;
    }
  }
  if (i == v.size()) return absl::OkStatus();
  if (v[i] != '-') return bad("only -pre.release may follow MAJOR.MINOR.PATCH");
  for (absl::string_view id : absl::StrSplit(v.substr(i + 1), '.')) {
    if (id.empty()) return bad("a pre-release identifier is empty");
    bool numeric = true;
    for (char c : id) {
      if (!absl::ascii_isalnum(c) && c != '-') {
        return bad("pre-release identifiers are letters, digits and '-'");
      }
      numeric = numeric && absl::ascii_isdigit(c);
    }
    if (numeric && id.size() > 1 && id[0] == '0') {
      return bad("a numeric pre-release identifier has a leading zero");
    }
  }
  return absl::OkStatus();
}

std::string StringField(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? std::string() : it->second.string_value();
}

const Struct* StructField(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  if (it == s.fields().end() || !it->second.has_struct_value()) return nullptr;
  return &it->second.struct_value();
}

google::api::HttpBody JsonBody(const Struct& s) {
  google::api::HttpBody body;
  body.set_content_type("application/json");
  (void)google::protobuf::util::MessageToJsonString(s, body.mutable_data());
  return body;
}

// dist's shasum and integrity: what npm checks a tarball against.
Struct Digests(absl::string_view tarball) {
  Struct dist;
  (*dist.mutable_fields())["shasum"].set_string_value(
      packages::Sha1Hex(tarball));
  (*dist.mutable_fields())["integrity"].set_string_value(
      packages::Sha512Integrity(tarball));
  return dist;
}

std::string TarballUrl(const std::string& base, const std::string& repo_key,
                       absl::string_view name, absl::string_view version) {
  return absl::StrCat(base, "/api/npm/", repo_key, "/",
                      packages::NpmTarballPath(name, version));
}

// The packument: every published version of `name` with its manifest and
// dist (tarball URL, shasum, integrity); dist-tags.latest is the highest
// final release (else the highest pre-release).
absl::StatusOr<google::api::HttpBody> Packument(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const storage::CallDeadline& deadline, const std::string& repo_key,
    const std::string& name) {
  const std::string folder = absl::StrCat(name, "/-/");
  absl::StatusOr<storage::ArtifactListing> listing =
      deps.repositories->ListArtifacts(repo_key, folder, kMaxVersionsListed,
                                       deadline);
  if (!listing.ok()) return listing.status();
  const std::string prefix =
      absl::StrCat(folder, packages::NpmBaseName(name), "-");
  const std::string base = PackageBaseUrl(deps, ctx);
  Struct packument;
  auto& fields = *packument.mutable_fields();
  Struct& versions = *fields["versions"].mutable_struct_value();
  std::string latest;
  for (const storage::ArtifactEntry& file : listing->files) {
    if (!absl::StartsWith(file.path, prefix) ||
        !absl::EndsWith(file.path, ".tgz")) {
      continue;
    }
    const std::string version =
        file.path.substr(prefix.size(), file.path.size() - prefix.size() - 4);
    if (!CheckSemVer(version, "version").ok()) continue;
    Struct manifest;
    absl::StatusOr<std::string> json = deps.repositories->ReadArtifact(
        repo_key, packages::NpmManifestPath(name, version), kMaxManifestBytes,
        deadline);
    if (!json.ok() ||
        !google::protobuf::util::JsonStringToMessage(*json, &manifest).ok()) {
      // Published, but its manifest was not written (a crash between the
      // two): what the tarball's path says is enough to install it, with
      // digests of the tarball itself (a version that cannot be read is
      // left out).
      absl::StatusOr<std::string> tarball = deps.repositories->ReadArtifact(
          repo_key, file.path, deps.max_artifact_bytes, deadline);
      if (!tarball.ok()) continue;
      manifest.Clear();
      (*manifest.mutable_fields())["name"].set_string_value(name);
      (*manifest.mutable_fields())["version"].set_string_value(version);
      *(*manifest.mutable_fields())["dist"].mutable_struct_value() =
          Digests(*tarball);
    }
    (*(*manifest.mutable_fields())["dist"]
          .mutable_struct_value()
          ->mutable_fields())["tarball"]
        .set_string_value(TarballUrl(base, repo_key, name, version));
    (*versions.mutable_fields())[version].mutable_struct_value()->Swap(
        &manifest);
    const bool pre = storage::IsPreRelease("npm", version);
    const bool latest_pre =
        !latest.empty() && storage::IsPreRelease("npm", latest);
    if (latest.empty() || (latest_pre && !pre) ||
        (pre == latest_pre &&
         storage::CompareVersions("npm", version, latest).value_or(0) > 0)) {
      latest = version;
    }
  }
  if (latest.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "package '", name, "' is not in repository '", repo_key, "'"));
  }
  fields["_id"].set_string_value(name);
  fields["name"].set_string_value(name);
  (*fields["dist-tags"].mutable_struct_value()->mutable_fields())["latest"]
      .set_string_value(latest);
  return JsonBody(packument);
}

// What a publish document must hold: the package, one version whose
// manifest names it, and that version's tarball attached (base64), whose
// digests match what the client computed.
struct Publication {
  std::string name;
  std::string version;
  Struct manifest;  // the version's, dist replaced by ours
  std::string tarball;
};

absl::StatusOr<Publication> ParsePublish(const std::string& path_name,
                                         const google::api::HttpBody& body,
                                         uint64_t max_bytes) {
  Struct doc;
  if (!google::protobuf::util::JsonStringToMessage(body.data(), &doc).ok()) {
    return absl::InvalidArgumentError(
        "request body: not a JSON package document");
  }
  Publication p;
  p.name = StringField(doc, "name");
  if (p.name != path_name) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: '", absl::CHexEscape(p.name.substr(0, 300)),
                     "' is not the package of the URL ('", path_name, "')"));
  }
  const Struct* versions = StructField(doc, "versions");
  if (versions == nullptr || versions->fields_size() != 1) {
    return absl::InvalidArgumentError(
        "versions: must hold exactly the one version being published");
  }
  p.version = versions->fields().begin()->first;
  if (absl::Status s = CheckSemVer(p.version, "versions"); !s.ok()) return s;
  if (!versions->fields().begin()->second.has_struct_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("versions.", p.version, ": not an object"));
  }
  p.manifest = versions->fields().begin()->second.struct_value();
  if (StringField(p.manifest, "name") != p.name ||
      StringField(p.manifest, "version") != p.version) {
    return absl::InvalidArgumentError(
        absl::StrCat("versions.", p.version, ": its name and version must be '",
                     p.name, "' and '", p.version, "'"));
  }
  const Struct* attachments = StructField(doc, "_attachments");
  if (attachments == nullptr || attachments->fields_size() != 1 ||
      !attachments->fields().begin()->second.has_struct_value()) {
    return absl::InvalidArgumentError(
        "_attachments: must hold exactly the version's tarball");
  }
  const std::string& data =
      StringField(attachments->fields().begin()->second.struct_value(), "data");
  if (data.size() / 4 * 3 > max_bytes) {
    return AsTooLarge(absl::ResourceExhaustedError(absl::StrCat(
        "_attachments: the tarball is larger than ", max_bytes, " bytes")));
  }
  if (data.empty() || !absl::Base64Unescape(data, &p.tarball)) {
    return absl::InvalidArgumentError(
        "_attachments: the tarball's data is not base64");
  }
  const Struct* dist = StructField(p.manifest, "dist");
  const std::string shasum = dist ? StringField(*dist, "shasum") : "";
  const std::string integrity = dist ? StringField(*dist, "integrity") : "";
  if (shasum.empty() && integrity.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "versions.", p.version, ".dist: needs integrity or shasum"));
  }
  const std::string our_integrity = packages::Sha512Integrity(p.tarball);
  const std::string our_shasum = packages::Sha1Hex(p.tarball);
  if (!integrity.empty() && integrity != our_integrity) {
    return absl::InvalidArgumentError(
        absl::StrCat("versions.", p.version,
                     ".dist.integrity: does not match the attached tarball"));
  }
  if (!shasum.empty() && absl::AsciiStrToLower(shasum) != our_shasum) {
    return absl::InvalidArgumentError(
        absl::StrCat("versions.", p.version,
                     ".dist.shasum: does not match the attached tarball"));
  }
  *(*p.manifest.mutable_fields())["dist"].mutable_struct_value() =
      Digests(p.tarball);
  return p;
}

// The tarball's own package/package.json must name the package and version
// being published: registration reads the name from the tarball, and npm
// installs what the tarball holds, whatever the document said.
absl::Status CheckTarballContents(const Publication& p,
                                  const storage::CallDeadline& deadline) {
  absl::StatusOr<storage::PackageManifest> own = storage::ReadPackageManifest(
      absl::StrCat(packages::NpmBaseName(p.name), "-", p.version, ".tgz"),
      p.tarball, deadline);
  if (!own.ok()) {
    if (own.status().code() != absl::StatusCode::kFailedPrecondition &&
        own.status().code() != absl::StatusCode::kResourceExhausted) {
      return own.status();
    }
    const std::string why =
        absl::StrCat("_attachments: the tarball ", own.status().message());
    return own.status().code() == absl::StatusCode::kFailedPrecondition
               ? absl::InvalidArgumentError(why)
               : AsTooLarge(absl::ResourceExhaustedError(why));
  }
  if (own->package_type != "npm") {
    return absl::InvalidArgumentError(
        "_attachments: the tarball has no package/package.json");
  }
  if (own->name != p.name) {
    return absl::InvalidArgumentError(absl::StrCat(
        "_attachments: the tarball's package.json name is '",
        absl::CHexEscape(own->name.substr(0, 300)), "', not '", p.name, "'"));
  }
  if (own->version != p.version) {
    return absl::InvalidArgumentError(
        absl::StrCat("_attachments: the tarball's package.json version is '",
                     absl::CHexEscape(own->version.substr(0, 100)), "', not '",
                     p.version, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<google::api::HttpBody> HandleNpmGet(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::PackageRequest& request) {
  CallScope scope(deps, ctx, "package.read");
  std::string principal;
  absl::StatusOr<storage::RepositoryInfo> repo =
      OpenPackageRepository(deps, scope, request.repo_key(), "npm",
                            authz::Permission::kRead, &principal);
  if (!repo.ok()) return repo.status();
  const storage::CallDeadline deadline(scope.deadline(),
                                       [&ctx] { return ctx.cancelled(); });
  const std::string& path = request.path();
  const size_t dash = path.find("/-/");
  if (dash == std::string::npos) {
    if (absl::Status s = CheckPackageName(path, "package"); !s.ok()) return s;
    return Packument(deps, ctx, deadline, request.repo_key(), path);
  }
  // A tarball: only at the path a packument hands out.
  if (absl::Status s = CheckPackageName(path.substr(0, dash), "package");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = storage::CheckRelativePath(path, "path"); !s.ok()) {
    return s;
  }
  if (!absl::EndsWith(path, ".tgz") ||
      path.find('/', dash + 3) != std::string::npos) {
    return absl::NotFoundError(absl::StrCat("no tarball at '", path, "'"));
  }
  absl::StatusOr<std::string> bytes = deps.repositories->ReadArtifact(
      request.repo_key(), path, deps.max_artifact_bytes, deadline);
  if (!bytes.ok()) return bytes.status();
  google::api::HttpBody body;
  body.set_content_type("application/octet-stream");
  body.set_data(std::move(*bytes));
  return body;
}

absl::StatusOr<google::api::HttpBody> HandleNpmPublish(
    RegistryDependencies& deps, const sdk::CallContext& ctx,
    const v1::PackageRequest& request) {
  CallScope scope(deps, ctx, "package.publish");
  std::string principal;
  absl::StatusOr<storage::RepositoryInfo> repo =
      OpenPackageRepository(deps, scope, request.repo_key(), "npm",
                            authz::Permission::kDeploy, &principal);
  if (!repo.ok()) return repo.status();
  if (absl::Status s = CheckPackageName(request.path(), "package"); !s.ok()) {
    return s;
  }
  absl::StatusOr<Publication> p =
      ParsePublish(request.path(), request.body(), deps.max_artifact_bytes);
  if (!p.ok()) return p.status();
  const std::string path = packages::NpmTarballPath(p->name, p->version);
  if (absl::Status s = storage::CheckRelativePath(path, "path"); !s.ok()) {
    return s;
  }
  // The manifest is stored as published and read back for the packument,
  // which reads at most kMaxManifestBytes of it.
  std::string manifest;
  (void)google::protobuf::util::MessageToJsonString(p->manifest, &manifest);
  if (manifest.size() > kMaxManifestBytes) {
    return AsTooLarge(absl::ResourceExhaustedError(absl::StrCat(
        "versions.", p->version, ": the version's manifest is ",
        manifest.size(), " bytes as JSON; at most ", kMaxManifestBytes)));
  }
  const storage::CallDeadline deadline(scope.deadline(),
                                       [&ctx] { return ctx.cancelled(); });
  if (absl::Status s = CheckTarballContents(*p, deadline); !s.ok()) return s;
  // The tarball is the version: linked into place only if no other is
  // (409 for a republish, one winner among racing ones). Its manifest
  // follows; a packument does without one that is missing.
  if (absl::Status s =
          deps.repositories->PublishArtifact(repo->key, path, p->tarball);
      !s.ok()) {
    if (s.code() == absl::StatusCode::kAlreadyExists) {
      return absl::AlreadyExistsError(absl::StrCat(
          p->name, "@", p->version, " is already published in repository '",
          repo->key, "'; a published version is never replaced"));
    }
    return s;
  }
  if (absl::Status s = deps.repositories->WriteArtifact(
          repo->key, packages::NpmManifestPath(p->name, p->version), manifest);
      !s.ok()) {
    deps.log.Warning(absl::StrCat("npm publish of ", repo->key, "/", path,
                                  ": manifest not written: ", s.message()));
  }
  AuditPublish(deps, scope, principal, *repo, path,
               packages::Sha256Hex(p->tarball));
  Struct answer;
  auto& f = *answer.mutable_fields();
  f["ok"].set_bool_value(true);
  f["id"].set_string_value(p->name);
  f["repoKey"].set_string_value(repo->key);
  f["repoPath"].set_string_value(path);
  return JsonBody(answer);
}

}  // namespace mcpreg

// The npm/PyPI endpoints' pieces that need no server: the multipart parser,
// Basic credentials, the REST routes they are reached by ({field=**},
// raw bodies) built from the plugin's own descriptors, and the publish
// handlers' checks over real repository storage (tests/support's harness).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "authz/access_token.h"
#include "google/protobuf/descriptor.pb.h"
#include "host/http_routes.h"
#include "mcpreg/v1/packages.pb.h"
#include "plugin/sdk/status_details.h"
#include "plugin/src/packages/digests.h"
#include "plugin/src/packages/multipart.h"
#include "plugin/src/packages/package_handlers.h"
#include "storage/repo/sample_packages.h"
#include "tests/support/handler_harness.h"

namespace mcpreg {
namespace {

using ::testing::HasSubstr;

TEST(MultipartTest, PartsByNameWithFilenamesAndBinaryContent) {
  const std::string binary("a\r\n--not-the-boundary\0z", 23);
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\":action\"\r\n\r\n"
      "file_upload\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"content\"; "
      "filename=\"p-1.0.tar.gz\"\r\nContent-Type: application/octet-stream"
      "\r\n\r\n" +
      binary + "\r\n--XyZ--\r\n";
  auto parts =
      packages::ParseMultipart("multipart/form-data; boundary=\"XyZ\"", body);
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(parts->find(":action")->second.content, "file_upload");
  EXPECT_EQ(parts->find("content")->second.filename, "p-1.0.tar.gz");
  EXPECT_EQ(parts->find("content")->second.content, binary);
}

TEST(MultipartTest, ARepeatedNameKeepsItsPartsInOrder) {
  const std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nfirst"
      "\r\n--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n"
      "second\r\n--b--\r\n";
  auto parts =
      packages::ParseMultipart("multipart/form-data; boundary=b", body);
  ASSERT_TRUE(parts.ok()) << parts.status();
  auto [first, last] = parts->equal_range("name");
  ASSERT_NE(first, last);
  EXPECT_EQ(first->second.content, "first");
  EXPECT_EQ(std::next(first)->second.content, "second");
}

TEST(MultipartTest, MalformedBodiesAreRefusedNotCrashedOn) {
  for (const auto& [type, body] :
       std::vector<std::pair<std::string, std::string>>{
           {"application/json", "{}"},
           {"multipart/form-data", "--x\r\n"},
           {"multipart/form-data; boundary=x", ""},
           {"multipart/form-data; boundary=x", "--x\r\nno headers end"},
           {"multipart/form-data; boundary=x",
            "--x\r\nContent-Disposition: form-data; "
            "name=a\r\n\r\nunterminated"},
           {"multipart/form-data; boundary=x",
            "--x\r\nContent-Type: text/plain\r\n\r\nv\r\n--x--"},
           {"multipart/form-data; boundary=x", "--xjunk"},
       }) {
    SCOPED_TRACE(body);
    auto parts = packages::ParseMultipart(type, body);
    EXPECT_EQ(parts.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(BasicCredentialsTest, TheTokenIsThePasswordWhateverTheUser) {
  // "ci:mcpreg_abc" and "__token__:mcpreg_abc"
  EXPECT_EQ(
      *authz::BearerToken({{"authorization", "Basic Y2k6bWNwcmVnX2FiYw=="}}),
      "mcpreg_abc");
  EXPECT_EQ(*authz::BearerToken(
                {{"authorization", "basic X190b2tlbl9fOm1jcHJlZ19hYmM="}}),
            "mcpreg_abc");
  EXPECT_EQ(*authz::BearerToken({{"authorization", "Bearer mcpreg_abc"}}),
            "mcpreg_abc");
  for (const char* bad : {"Basic !!!", "Basic Y2k=" /* "ci", no colon */,
                          "Basic Y2k6" /* "ci:", no password */, "Digest x"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(authz::BearerToken({{"authorization", bad}}).status().code(),
              absl::StatusCode::kUnauthenticated);
  }
}

// The descriptor set of packages.proto and what it imports, in dependency
// order, as the plugin hands it to the host.
std::string PackagesDescriptorSet() {
  google::protobuf::FileDescriptorSet set;
  std::vector<const google::protobuf::FileDescriptor*> order;
  std::function<void(const google::protobuf::FileDescriptor*)> add =
      [&](const google::protobuf::FileDescriptor* f) {
        for (const auto* seen : order) {
          if (seen == f) return;
        }
        for (int i = 0; i < f->dependency_count(); ++i) add(f->dependency(i));
        order.push_back(f);
      };
  add(v1::PackageRequest::descriptor()->file());
  for (const auto* f : order) f->CopyTo(set.add_file());
  return set.SerializeAsString();
}

TEST(PackageRoutesTest, TheRestOfThePathIsOneVariableDecodedPerSegment) {
  const std::string prefix = "/mcpreg.v1.PackageRepositories/";
  auto table = host::RouteTable::Build(
      PackagesDescriptorSet(), {prefix + "NpmGet", prefix + "NpmPublish",
                                prefix + "PypiGet", prefix + "PypiUpload"});
  ASSERT_TRUE(table.ok()) << table.status();

  auto scoped = (*table)->Match("GET", "/api/npm/ai-npm-local/@acme%2ftool");
  ASSERT_TRUE(scoped.ok()) << scoped.status();
  EXPECT_EQ(scoped->route->grpc_method, prefix + "NpmGet");
  EXPECT_TRUE(scoped->route->raw_response);
  EXPECT_EQ(scoped->variables.at("repo_key"), "ai-npm-local");
  EXPECT_EQ(scoped->variables.at("path"), "@acme/tool");

  auto tarball =
      (*table)->Match("GET", "/api/npm/r/@acme/tool/-/tool-1.0.0.tgz");
  ASSERT_TRUE(tarball.ok());
  EXPECT_EQ(tarball->variables.at("path"), "@acme/tool/-/tool-1.0.0.tgz");

  auto publish = (*table)->Match("PUT", "/api/npm/r/hello-mcp");
  ASSERT_TRUE(publish.ok());
  EXPECT_TRUE(publish->route->raw_request);

  // Zero segments: twine posts to the repository's URL itself.
  auto upload = (*table)->Match("POST", "/api/pypi/ai-pypi-local/");
  ASSERT_TRUE(upload.ok()) << upload.status();
  EXPECT_EQ(upload->route->grpc_method, prefix + "PypiUpload");
  EXPECT_EQ(upload->variables.at("path"), "");

  // Decoding never turns into a different route, and bad escapes fail.
  auto dots = (*table)->Match("GET", "/api/pypi/r/packages/..%2F..%2Fx");
  ASSERT_TRUE(dots.ok());
  EXPECT_EQ(dots->variables.at("path"), "packages/../../x");  // checked later
  EXPECT_FALSE((*table)->Match("GET", "/api/npm/r/bad%zz").ok());
  EXPECT_EQ((*table)->Match("DELETE", "/api/npm/r/x").status().code(),
            absl::StatusCode::kUnimplemented);
}

// The publish handlers over real storage: what is checked before anything
// is stored.
class PackagePublishTest : public testing::HandlerTest {
 protected:
  PackagePublishTest() {
    token_ = TokenFor("ci");
    for (const char* repo : {"ai-npm-local", "ai-pypi-local"}) {
      Grant("ci", "DEPLOY", repo);
      Grant("ci", "READ", repo);
    }
  }

  // A publish document as npm sends it; `extra` goes into the version's
  // manifest (",\"readme\":...").
  static std::string NpmDoc(const std::string& name, const std::string& version,
                            const std::string& tgz,
                            const std::string& extra = "") {
    return absl::StrCat(
        R"({"_id":")", name, R"(","name":")", name, R"(","versions":{")",
        version, R"(":{"name":")", name, R"(","version":")", version, R"(")",
        extra, R"(,"dist":{"integrity":")", packages::Sha512Integrity(tgz),
        R"(","shasum":")", packages::Sha1Hex(tgz),
        R"("}}},"_attachments":{"t.tgz":{"data":")", absl::Base64Escape(tgz),
        R"("}}})");
  }
  absl::StatusOr<google::api::HttpBody> NpmPublish(const std::string& name,
                                                   const std::string& doc) {
    v1::PackageRequest r;
    r.set_repo_key("ai-npm-local");
    r.set_path(name);
    r.mutable_body()->set_content_type("application/json");
    r.mutable_body()->set_data(doc);
    return HandleNpmPublish(deps_, *Call(token_), r);
  }
  absl::StatusOr<google::api::HttpBody> NpmGet(const std::string& path) {
    v1::PackageRequest r;
    r.set_repo_key("ai-npm-local");
    r.set_path(path);
    return HandleNpmGet(deps_, *Call(token_), r);
  }

  // A twine upload of `bytes` as `filename`, the form saying `name` and
  // `version`.
  absl::StatusOr<google::api::HttpBody> PypiUpload(const std::string& name,
                                                   const std::string& version,
                                                   const std::string& filename,
                                                   const std::string& bytes) {
    std::string body;
    for (const auto& [field, value] :
         std::vector<std::pair<std::string, std::string>>{
             {":action", "file_upload"},
             {"name", name},
             {"version", version},
             {"sha256_digest", packages::Sha256Hex(bytes)}}) {
      absl::StrAppend(&body, "--B\r\nContent-Disposition: form-data; name=\"",
                      field, "\"\r\n\r\n", value, "\r\n");
    }
    absl::StrAppend(&body,
                    "--B\r\nContent-Disposition: form-data; name=\"content\"; "
                    "filename=\"",
                    filename, "\"\r\n\r\n", bytes, "\r\n--B--\r\n");
    v1::PackageRequest r;
    r.set_repo_key("ai-pypi-local");
    r.mutable_body()->set_content_type("multipart/form-data; boundary=B");
    r.mutable_body()->set_data(body);
    return HandlePypiUpload(deps_, *Call(token_), r);
  }

  bool Stored(const std::string& repo, const std::string& path) {
    return std::filesystem::exists(
        absl::StrCat(storage_root(), "/", repo, "/", path));
  }

  std::string token_;
};

TEST_F(PackagePublishTest, NpmTheTarballMustHoldThePackageAndVersion) {
  const std::string tgz = storage::BuildNpmTarball("hello-mcp", "1.0.0", "d");
  auto ok = NpmPublish("hello-mcp", NpmDoc("hello-mcp", "1.0.0", tgz));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(Stored("ai-npm-local", "hello-mcp/-/hello-mcp-1.0.0.tgz"));

  // The document says other-mcp, the tarball hello-mcp.
  auto other = NpmPublish("other-mcp", NpmDoc("other-mcp", "1.0.0", tgz));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(other.status().message(), HasSubstr("package.json name"));
  EXPECT_FALSE(Stored("ai-npm-local", "other-mcp"));

  // The document says 2.0.0, the tarball 1.0.0.
  auto version = NpmPublish("hello-mcp", NpmDoc("hello-mcp", "2.0.0", tgz));
  EXPECT_EQ(version.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(version.status().message(), HasSubstr("package.json version"));
  EXPECT_FALSE(Stored("ai-npm-local", "hello-mcp/-/hello-mcp-2.0.0.tgz"));

  // Not a tarball at all.
  auto junk = NpmPublish("junk-mcp", NpmDoc("junk-mcp", "1.0.0", "not gzip"));
  EXPECT_EQ(junk.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(junk.status().message(), HasSubstr("_attachments"));
  EXPECT_FALSE(Stored("ai-npm-local", "junk-mcp"));
}

TEST_F(PackagePublishTest, NpmVersionsThatCouldShadowAnotherAreRefused) {
  for (const char* v : {"1.0.0+evil", "1.0.0-rc.1+b", "1.0.0-..", "1.0.0-a..b",
                        "1.0.0-", "1.0.0-01", "01.0.0", "1.0"}) {
    SCOPED_TRACE(v);
    const std::string tgz = storage::BuildNpmTarball("shadow-mcp", v, "d");
    auto r = NpmPublish("shadow-mcp", NpmDoc("shadow-mcp", v, tgz));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("versions"));
  }
  auto build = NpmPublish(
      "shadow-mcp",
      NpmDoc("shadow-mcp", "1.0.0+evil",
             storage::BuildNpmTarball("shadow-mcp", "1.0.0+evil", "d")));
  EXPECT_THAT(build.status().message(), HasSubstr("build metadata"));
  EXPECT_FALSE(Stored("ai-npm-local", "shadow-mcp"));
  const std::string pre = "1.0.0-rc.1-x.0";
  auto ok = NpmPublish(
      "shadow-mcp", NpmDoc("shadow-mcp", pre,
                           storage::BuildNpmTarball("shadow-mcp", pre, "d")));
  EXPECT_TRUE(ok.ok()) << ok.status();
}

TEST_F(PackagePublishTest, NpmManifestsThePackumentCannotReadAreRefused) {
  const std::string tgz = storage::BuildNpmTarball("big-mcp", "1.0.0", "d");
  auto big = NpmPublish(
      "big-mcp", NpmDoc("big-mcp", "1.0.0", tgz,
                        absl::StrCat(R"(,"readme":")",
                                     std::string((1 << 20) + 1, 'x'), R"(")")));
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted);
  // Marked too large (REST: 413), not too many requests (429).
  EXPECT_TRUE(big.status().GetPayload(kTooLargeTypeUrl).has_value());
  EXPECT_THAT(big.status().message(), HasSubstr("manifest"));
  EXPECT_FALSE(Stored("ai-npm-local", "big-mcp"));
}

TEST_F(PackagePublishTest, NpmAVersionWithoutItsManifestStillHasDigests) {
  const std::string tgz = storage::BuildNpmTarball("bare-mcp", "1.0.0", "d");
  ASSERT_TRUE(NpmPublish("bare-mcp", NpmDoc("bare-mcp", "1.0.0", tgz)).ok());
  ASSERT_TRUE(std::filesystem::remove(absl::StrCat(
      storage_root(), "/ai-npm-local/bare-mcp/-/bare-mcp-1.0.0.json")));
  auto packument = NpmGet("bare-mcp");
  ASSERT_TRUE(packument.ok()) << packument.status();
  EXPECT_THAT(packument->data(), HasSubstr(packages::Sha512Integrity(tgz)));
  EXPECT_THAT(packument->data(), HasSubstr(packages::Sha1Hex(tgz)));
  EXPECT_THAT(packument->data(), HasSubstr("bare-mcp-1.0.0.tgz"));
}

TEST_F(PackagePublishTest, PypiTheFileMustHoldTheProjectAndVersion) {
  const std::string sdist = storage::BuildSdist("mcp-server", "1.0.0", "d");
  auto ok = PypiUpload("mcp-server", "1.0.0", "mcp_server-1.0.0.tar.gz", sdist);
  ASSERT_TRUE(ok.ok()) << ok.status();

  // Named as another project's file, holding mcp-server's metadata.
  auto name =
      PypiUpload("other-server", "1.0.0", "other_server-1.0.0.tar.gz", sdist);
  EXPECT_EQ(name.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(name.status().message(), HasSubstr("Name"));
  EXPECT_FALSE(Stored("ai-pypi-local", "other-server"));
  auto version =
      PypiUpload("mcp-server", "2.0.0", "mcp_server-2.0.0.tar.gz", sdist);
  EXPECT_EQ(version.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(version.status().message(), HasSubstr("Version"));
  EXPECT_FALSE(Stored("ai-pypi-local", "mcp-server/2.0.0"));
  auto junk = PypiUpload("mcp-server", "3.0.0",
                         "mcp_server-3.0.0-py3-none-any.whl", "not a zip");
  EXPECT_EQ(junk.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(junk.status().message(), HasSubstr("content"));
  EXPECT_FALSE(Stored("ai-pypi-local", "mcp-server/3.0.0"));
}

TEST_F(PackagePublishTest, PypiOneFilePerCanonicalNameAndOneSdistPerRelease) {
  const std::string sdist = storage::BuildSdist("mcp-server", "1.0.0", "d");
  ASSERT_TRUE(
      PypiUpload("mcp-server", "1.0.0", "mcp_server-1.0.0.tar.gz", sdist).ok());
  // Another spelling of the same file: pip would take either.
  auto spelled = PypiUpload("MCP_Server", "1.0.0", "MCP_Server-1.0.0.tar.gz",
                            storage::BuildSdist("MCP_Server", "1.0.0", "e"));
  EXPECT_EQ(spelled.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(
      Stored("ai-pypi-local", "mcp-server/1.0.0/MCP_Server-1.0.0.tar.gz"));
  // A second sdist, zipped.
  auto zip =
      PypiUpload("mcp-server", "1.0.0", "mcp_server-1.0.0.zip",
                 storage::BuildZip({{"mcp_server-1.0.0/PKG-INFO",
                                     "Metadata-Version: 2.1\nName: mcp-server\n"
                                     "Version: 1.0.0\n"}}));
  EXPECT_EQ(zip.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(zip.status().message(), HasSubstr("sdist"));
  // A wheel beside the sdist is what a release holds.
  auto wheel =
      PypiUpload("mcp-server", "1.0.0", "mcp_server-1.0.0-py3-none-any.whl",
                 storage::BuildWheel("mcp-server", "1.0.0", "d"));
  EXPECT_TRUE(wheel.ok()) << wheel.status();
  // 1.0 is 1.0.0 to pip.
  auto shorter =
      PypiUpload("mcp-server", "1.0", "mcp_server-1.0-py3-none-any.whl",
                 storage::BuildWheel("mcp-server", "1.0", "d"));
  EXPECT_EQ(shorter.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(Stored("ai-pypi-local", "mcp-server/1.0"));
}

TEST_F(PackagePublishTest, PypiVersionsAreStoredUnderTheirCanonicalSpelling) {
  auto rc = PypiUpload("mcp-server", "1.0.0RC1", "mcp_server-1.0.0RC1.tar.gz",
                       storage::BuildSdist("mcp-server", "1.0.0RC1", "d"));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_THAT(rc->data(),
              HasSubstr("mcp-server/1.0.0rc1/mcp_server-1.0.0RC1.tar.gz"));
  auto again =
      PypiUpload("mcp-server", "1.0.0rc1", "mcp_server-1.0.0rc1.tar.gz",
                 storage::BuildSdist("mcp-server", "1.0.0rc1", "d"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  // Other spellings of one version, and the folder each lands in.
  for (const auto& [spelled, folder] :
       std::vector<std::pair<std::string, std::string>>{
           {"2.0-Alpha.1", "2.0a1"},
           {"3.0.0-rc", "3.0.0rc0"},
           {"v4.01", "4.1"},
           {"5.0-1", "5.0.post1"},
           {"6.0.0.DEV2", "6.0.0.dev2"},
           {"0!7.0_preview_3+Local-1", "7.0rc3+local.1"}}) {
    SCOPED_TRACE(spelled);
    auto r =
        PypiUpload("mcp-server", spelled,
                   absl::StrCat("mcp_server-", folder, "-py3-none-any.whl"),
                   storage::BuildWheel("mcp-server", spelled, "d"));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_THAT(r->data(), HasSubstr(absl::StrCat("mcp-server/", folder, "/")));
  }
}

}  // namespace
}  // namespace mcpreg

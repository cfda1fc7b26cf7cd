// The npm/PyPI endpoints' pieces that need no server: the multipart parser,
// Basic credentials, and the REST routes they are reached by ({field=**},
// raw bodies) built from the plugin's own descriptors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "authz/access_token.h"
#include "google/protobuf/descriptor.pb.h"
#include "host/http_routes.h"
#include "mcpreg/v1/packages.pb.h"
#include "plugin/src/packages/multipart.h"

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

}  // namespace
}  // namespace mcpreg

// What the web UI needs from the registry, over REST with curl against a
// real mcpreg-host, plugin and PostgreSQL: the UI's files with their
// security headers; the caller's projects, a project's repositories, a
// repository's files and a package's manifest, each showing only what the
// caller may read; a tool policy tried without being saved or audited; and
// the policy mode in the server list.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/shared_registry_test.h"
#include "tests/support/shell.h"

namespace mcpreg::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kNpmTarball[] =
    "org/project/simple-mcp/1.0.0/simple-mcp-1.0.0.tgz";

class CatalogE2eTest
    : public SharedRegistryTest<CatalogE2eTest, /*kRest=*/true> {
 protected:
  static HttpResult Call(const std::string& method, const std::string& path,
                         const std::string& token,
                         const std::string& body = "") {
    std::vector<std::string> headers = {"JFrog-Project-Key: ai-research"};
    if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
    return Curl(server_->rest_address(), method, path, headers, body);
  }
  static std::string Admin() { return server_->admin_token(); }
  // A new principal with the given grants, and its token.
  static std::string TokenFor(
      const std::string& principal,
      const std::vector<std::pair<std::string, std::string>>& grants) {
    HttpResult created =
        Call("POST", "/api/v1/mcp-registry/admin/tokens", Admin(),
             absl::StrCat(R"({"principal": ")", principal, R"("})"));
    EXPECT_EQ(created.status, 200) << created.body;
    for (const auto& [permission, resource] : grants) {
      HttpResult granted = Call(
          "POST", "/api/v1/mcp-registry/admin/grants", Admin(),
          absl::StrCat(R"({"principal": ")", principal, R"(", "permission": ")",
                       permission, R"(", "resource": ")", resource, R"("})"));
      EXPECT_EQ(granted.status, 200) << granted.body;
    }
    return created["token"].string_value();
  }
  static httplib::Client Browser() {
    const std::string& a = server_->rest_address();
    return httplib::Client(a.substr(0, a.rfind(':')),
                           std::stoi(a.substr(a.rfind(':') + 1)));
  }
};

TEST_F(CatalogE2eTest, TheUiIsServedWithItsSecurityHeaders) {
  httplib::Client browser = Browser();
  httplib::Result root = browser.Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 302);
  EXPECT_EQ(root->get_header_value("Location"), "/ui/");

  httplib::Result index = browser.Get("/ui/");
  ASSERT_TRUE(index);
  ASSERT_EQ(index->status, 200);
  EXPECT_THAT(index->get_header_value("Content-Type"), HasSubstr("text/html"));
  const std::string csp = index->get_header_value("Content-Security-Policy");
  EXPECT_THAT(csp, HasSubstr("script-src 'self'"));
  EXPECT_THAT(csp, Not(HasSubstr("unsafe-inline")));
  EXPECT_THAT(csp, HasSubstr("frame-ancestors 'none'"));
  EXPECT_EQ(index->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(index->get_header_value("Cache-Control"), "no-cache");
  EXPECT_THAT(index->body, HasSubstr("<script type=\"module\""));
  EXPECT_THAT(index->body, Not(HasSubstr("<script>")));  // no inline script

  // Revalidation costs a round trip, not the bytes.
  const std::string etag = index->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  httplib::Result again = browser.Get("/ui/", {{"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());

  for (const char* library :
       {"/ui/vendor/marked.esm.js", "/ui/vendor/purify.es.mjs"}) {
    httplib::Result js = browser.Get(library);
    ASSERT_TRUE(js);
    EXPECT_EQ(js->status, 200) << library;
    EXPECT_THAT(js->get_header_value("Content-Type"),
                HasSubstr("text/javascript"));
  }
  httplib::Result missing = browser.Get("/ui/no-such-file.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  // The API is still the API.
  httplib::Result info = browser.Get("/api/v1/mcp-registry/info");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->status, 200);
}

TEST_F(CatalogE2eTest, ProjectsAndRepositoriesAreThoseTheCallerMayRead) {
  HttpResult mine = Call("GET", "/api/v1/mcp-registry/projects", Admin());
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(mine["principal"].string_value(), "admin");
  EXPECT_TRUE(mine["admin"].bool_value());
  EXPECT_THAT(mine.body, HasSubstr(R"({"projectKey":"ai-research",)"
                                   R"("canRegister":true})"));

  const std::string reader = TokenFor("npm-reader", {{"READ", "ai-npm-local"}});
  mine = Call("GET", "/api/v1/mcp-registry/projects", reader);
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_FALSE(mine["admin"].bool_value());
  EXPECT_THAT(mine.body, HasSubstr(R"("projects":[{"projectKey":"ai-research",)"
                                   R"("canRegister":false}])"));
  HttpResult repos = Call(
      "GET", "/api/v1/mcp-registry/projects/ai-research/repositories", reader);
  ASSERT_EQ(repos.status, 200) << repos.body;
  EXPECT_EQ(
      repos.body,
      R"({"repositories":[{"repoKey":"ai-npm-local","packageType":"npm"}]})");
  repos = Call("GET", "/api/v1/mcp-registry/projects/ai-research/repositories",
               Admin());
  EXPECT_THAT(repos.body, HasSubstr("ai-pypi-local"));

  const std::string nobody = TokenFor("nobody", {});
  mine = Call("GET", "/api/v1/mcp-registry/projects", nobody);
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_THAT(mine.body, Not(HasSubstr("ai-research")));
  repos = Call("GET", "/api/v1/mcp-registry/projects/ai-research/repositories",
               nobody);
  EXPECT_EQ(repos.body, R"({"repositories":[]})");
  EXPECT_EQ(Call("GET", "/api/v1/mcp-registry/projects", "").status, 401);
}

TEST_F(CatalogE2eTest, FilesAndPackagesNeedReadOnTheRepository) {
  const std::string reader = TokenFor("npm-only", {{"READ", "ai-npm-local"}});
  HttpResult files = Call(
      "GET", "/api/v1/mcp-registry/repositories/ai-npm-local/files?prefix=org/",
      reader);
  ASSERT_EQ(files.status, 200) << files.body;
  EXPECT_THAT(files.body, HasSubstr(kNpmTarball));
  EXPECT_THAT(files.body, HasSubstr("org/project/simple-mcp/1.0.0/README.md"));
  files = Call("GET",
               "/api/v1/mcp-registry/repositories/ai-npm-local/"
               "files?prefix=org/project/simple-mcp/1.0.0/simple&pageSize=1",
               reader);
  ASSERT_EQ(files.status, 200) << files.body;
  EXPECT_EQ(files["files"].list_value().values_size(), 1);
  files = Call("GET",
               "/api/v1/mcp-registry/repositories/ai-npm-local/"
               "files?prefix=no/such/folder/",
               reader);
  EXPECT_EQ(files.status, 200) << files.body;
  EXPECT_EQ(files.body, R"({"files":[],"truncated":false})");

  // Another repository, existing or not: the same refusal.
  for (const char* repo : {"ai-pypi-local", "no-such-repo"}) {
    HttpResult denied =
        Call("GET",
             absl::StrCat("/api/v1/mcp-registry/repositories/", repo, "/files"),
             reader);
    EXPECT_EQ(denied.status, 403) << repo << denied.body;
  }
  HttpResult climb = Call(
      "GET", "/api/v1/mcp-registry/repositories/ai-npm-local/files?prefix=../",
      reader);
  EXPECT_EQ(climb.status, 400) << climb.body;
  EXPECT_THAT(climb["message"].string_value(), HasSubstr("prefix"));

  HttpResult package =
      Call("GET",
           absl::StrCat("/api/v1/mcp-registry/repositories/ai-npm-local/"
                        "package?path=",
                        kNpmTarball),
           reader);
  ASSERT_EQ(package.status, 200) << package.body;
  EXPECT_EQ(package["name"].string_value(), "simple-mcp");
  EXPECT_EQ(package["version"].string_value(), "1.0.0");
  EXPECT_EQ(package["packageType"].string_value(), "npm");
  HttpResult not_a_package =
      Call("GET",
           "/api/v1/mcp-registry/repositories/ai-npm-local/"
           "package?path=org/project/simple-mcp/1.0.0/README.md",
           reader);
  EXPECT_EQ(not_a_package.status, 412) << not_a_package.body;
  EXPECT_THAT(not_a_package["message"].string_value(), HasSubstr("path: "));
  HttpResult absent =
      Call("GET",
           "/api/v1/mcp-registry/repositories/ai-npm-local/package?path=x.tgz",
           reader);
  EXPECT_EQ(absent.status, 404) << absent.body;
  HttpResult bad_path = Call(
      "GET",
      "/api/v1/mcp-registry/repositories/ai-npm-local/package?path=../x.tgz",
      reader);
  EXPECT_EQ(bad_path.status, 400) << bad_path.body;
}

TEST_F(CatalogE2eTest, APolicyIsTriedWithoutBeingSavedOrAudited) {
  const std::string reader = TokenFor("trier", {});
  const auto audited = [] {
    HttpResult r =
        Call("GET", "/api/v1/mcp-registry/audit?pageSize=1000", Admin());
    return r["events"].list_value().values_size();
  };
  const int before = audited();
  HttpResult tried =
      Call("POST", "/api/v1/mcp-registry/tool-policy:test", reader,
           R"({"policy": {"mode": "ALLOW_LIST", "entries": [
            {"pattern": "echo"}, {"pattern": "read_.*", "isRegex": true}]},
          "tools": ["read_file", "echo", "rm"]})");
  ASSERT_EQ(tried.status, 200) << tried.body;
  const auto& d = tried["decisions"].list_value();
  ASSERT_EQ(d.values_size(), 3);
  const auto field = [&](int i, const char* name) -> const auto& {
    return d.values(i).struct_value().fields().at(name);
  };
  EXPECT_TRUE(field(0, "allowed").bool_value());
  EXPECT_EQ(field(0, "entryIndex").number_value(), 1);
  EXPECT_TRUE(field(1, "allowed").bool_value());
  EXPECT_FALSE(field(2, "allowed").bool_value()) << "rm";
  EXPECT_EQ(field(2, "entryIndex").number_value(), -1);
  EXPECT_EQ(audited(), before);

  HttpResult invalid =
      Call("POST", "/api/v1/mcp-registry/tool-policy:test", reader,
           R"({"policy": {"mode": "ALLOW_LIST", "entries": [
            {"pattern": "echo"}, {"pattern": "read_(", "isRegex": true}]}})");
  EXPECT_EQ(invalid.status, 400) << invalid.body;
  EXPECT_THAT(invalid["message"].string_value(),
              HasSubstr("policy.entries[1].pattern"));
  EXPECT_EQ(Call("POST", "/api/v1/mcp-registry/tool-policy:test", "",
                 R"({"policy": {"mode": "ALLOW_ALL"}})")
                .status,
            401);
}

TEST_F(CatalogE2eTest, TheServerListShowsEachPolicyMode) {
  HttpResult registered = Call(
      "POST", "/ml/core/api/v1/mcp-registry/custom-server", Admin(),
      absl::StrCat(R"({"projectKey": "ai-research", "repoArtifactInfo": {)",
                   R"("repoKey": "ai-npm-local", "repoPath": ")", kNpmTarball,
                   R"("}, "mcpServerInfo": {"description": "d",)",
                   R"("version": "1.0.0"}})"));
  ASSERT_EQ(registered.status, 200) << registered.body;
  HttpResult list = Call(
      "GET", "/api/v1/mcp-registry/servers?projectKey=ai-research", Admin());
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_THAT(list.body, Not(HasSubstr("toolPolicy")));
  ASSERT_EQ(Call("PUT", "/api/v1/mcp-registry/servers/simple-mcp/tool-policy",
                 Admin(), R"({"mode": "ALLOW_ALL"})")
                .status,
            200);
  list = Call("GET", "/api/v1/mcp-registry/servers?projectKey=ai-research",
              Admin());
  EXPECT_THAT(list.body, HasSubstr(R"("mode":"ALLOW_ALL")"));
}

}  // namespace
}  // namespace mcpreg::testing

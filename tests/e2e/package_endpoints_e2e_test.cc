// The reference platform's npm and PyPI endpoints with the real clients:
// Debian's npm, twine and pip publish freshly built packages to a running
// registry, the registry registers them by the path the layout gives, and
// the clients fetch them back byte for byte. Refusals (401, 403, 409, 400
// with nothing stored, traversal) are checked with the clients and with
// curl. Loopback only; npm's cache and config are per test.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "plugin/src/packages/digests.h"
#include "storage/repo/sample_packages.h"
#include "tests/support/shared_registry_test.h"
#include "tests/support/shell.h"

namespace mcpreg::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr char kNpm[] = "/usr/bin/npm";
constexpr char kTwine[] = "/usr/bin/twine";
constexpr char kPython[] = "/usr/bin/python3";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

class PackageEndpointsTest
    : public SharedRegistryTest<PackageEndpointsTest, true> {
 protected:
  void SetUp() override {
    SharedRegistryTest::SetUp();
    if (!server_->ok()) return;
    char dir[] = "/tmp/mcpreg-packages-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    work_ = dir;
  }
  void TearDown() override {
    if (!work_.empty()) std::filesystem::remove_all(work_);
  }

  static std::string Addr() { return server_->rest_address(); }
  static std::string NpmUrl(const std::string& repo = "ai-npm-local") {
    return absl::StrCat("http://", Addr(), "/api/npm/", repo, "/");
  }
  static std::string PypiUrl(const std::string& repo = "ai-pypi-local") {
    return absl::StrCat("http://", Addr(), "/api/pypi/", repo, "/");
  }

  // A local repository of project ai-research without anonymous reads
  // (the quickstart's two allow them, for its direct client configurations).
  static void CreatePrivateRepository(const std::string& key,
                                      const std::string& type) {
    HttpResult r = Curl(
        Addr(), "POST", "/api/v1/mcp-registry/admin/repositories",
        {"Authorization: Bearer " + server_->admin_token()},
        absl::StrCat(R"({"key":")", key, R"(","packageType":")", type,
                     R"(","repoClass":"local","projectKey":"ai-research"})"));
    EXPECT_TRUE(r.status == 200 || r.status == 409) << r.body;
  }
  static std::string Storage(const std::string& repo, const std::string& p) {
    return absl::StrCat(server_->home(), "/storage/", repo, "/", p);
  }

  // A token for `principal` holding `permission` on `repo` ("" = none).
  static std::string TokenWith(const std::string& principal,
                               const std::string& permission,
                               const std::string& repo) {
    const std::vector<std::string> admin = {"Authorization: Bearer " +
                                            server_->admin_token()};
    HttpResult t =
        Curl(Addr(), "POST", "/api/v1/mcp-registry/admin/tokens", admin,
             absl::StrCat(R"({"principal":")", principal,
                          R"(","description":"e2e"})"));
    EXPECT_EQ(t.status, 200) << t.body;
    if (!permission.empty()) {
      HttpResult g = Curl(
          Addr(), "POST", "/api/v1/mcp-registry/admin/grants", admin,
          absl::StrCat(R"({"principal":")", principal, R"(","permission":")",
                       permission, R"(","resource":")", repo, R"("})"));
      EXPECT_EQ(g.status, 200) << g.body;
    }
    return t["token"].string_value();
  }

  // An npm userconfig with `token` for the npm repository, and a cache of
  // this test's own.
  std::string NpmConfig(const std::string& token,
                        const std::string& repo = "ai-npm-local") {
    const std::string path = absl::StrCat(work_, "/npmrc-", ++configs_);
    std::ofstream(path) << "registry=" << NpmUrl(repo) << "\n//" << Addr()
                        << "/api/npm/" << repo << "/:_authToken=" << token
                        << "\naudit=false\nfund=false\nupdate-notifier=false\n";
    return absl::StrCat(" --userconfig ", path, " --cache ", work_,
                        "/npm-cache");
  }

  // A fresh npm package: a bin that prints its name.
  std::string MakeNpmPackage(const std::string& name,
                             const std::string& version) {
    const std::string dir = absl::StrCat(work_, "/src-", name, "-", version);
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/package.json")
        << R"({"name":")" << name << R"(","version":")" << version
        << R"(","description":"e2e MCP server","bin":{")" << name
        << R"(":"index.js"},"license":"MIT"})";
    std::ofstream(dir + "/index.js")
        << "#!/usr/bin/env node\nconsole.log('hello from " << name << " "
        << version << "');\n";
    std::ofstream(dir + "/README.md") << "# " << name << "\n";
    return dir;
  }

  // A fresh wheel (built by hand with zipfile: nothing to download).
  std::string MakeWheel(const std::string& dist, const std::string& version) {
    const std::string dir = absl::StrCat(work_, "/dist-", dist, "-", version);
    std::filesystem::create_directories(dir);
    const std::string script = absl::StrCat(
        kPython, " - <<'PY'\n", "import base64, hashlib, zipfile\n",
        "dist, version, out = '", dist, "', '", version, "', '", dir, "'\n",
        R"PY(files = {
  f'{dist}/__init__.py': 'def main():\n    print("hello")\n',
  f'{dist}-{version}.dist-info/METADATA':
    f'Metadata-Version: 2.1\nName: {dist.replace("_", "-")}\nVersion: {version}\nSummary: e2e MCP server\n',
  f'{dist}-{version}.dist-info/WHEEL':
    'Wheel-Version: 1.0\nGenerator: e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  f'{dist}-{version}.dist-info/entry_points.txt':
    f'[console_scripts]\n{dist.replace("_", "-")} = {dist}:main\n',
}
record = f'{dist}-{version}.dist-info/RECORD'
lines = []
for name, text in files.items():
  digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()
  lines.append(f'{name},sha256={digest},{len(text.encode())}')
lines.append(f'{record},,')
files[record] = '\n'.join(lines) + '\n'
with zipfile.ZipFile(f'{out}/{dist}-{version}-py3-none-any.whl', 'w') as z:
  for name, text in files.items():
    z.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), text)
PY
)PY");
    ShellResult r = RunShell(script);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return absl::StrCat(dir, "/", dist, "-", version, "-py3-none-any.whl");
  }

  // Registers the package at `repo_path` as the page's body does; the
  // server's name, which comes from the package's own manifest.
  static std::string RegisteredName(const std::string& repo,
                                    const std::string& repo_path) {
    HttpResult reg = Curl(
        Addr(), "POST", "/ml/core/api/v1/mcp-registry/custom-server",
        {"Authorization: Bearer " + server_->admin_token()},
        absl::StrCat(R"({"projectKey":"ai-research","repoArtifactInfo":{)",
                     R"("repoKey":")", repo, R"(","repoPath":")", repo_path,
                     R"("},"mcpServerInfo":{"description":"e2e",)",
                     R"("version":"1.0.0"}})"));
    EXPECT_EQ(reg.status, 200) << reg.body;
    if (reg.status != 200) return "";
    return reg["server"].struct_value().fields().at("name").string_value();
  }

  ShellResult Twine(const std::string& file, const std::string& token,
                    const std::string& repo = "ai-pypi-local") {
    return RunShell(
        absl::StrCat(kTwine,
                     " upload --non-interactive --disable-progress-"
                     "bar --repository-url ",
                     PypiUrl(repo), " -u ci -p ", ShellQuote(token), " ", file),
        work_,
        {{"PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring"},
         {"HOME", work_}});
  }

  std::string work_;
  int configs_ = 0;
};

TEST_F(PackageEndpointsTest, NpmPublishRegisterInstallAndNpx) {
  const std::string src = MakeNpmPackage("e2e-npm-mcp", "1.0.0");
  const std::string npm = absl::StrCat(kNpm, NpmConfig(server_->admin_token()));
  ShellResult pub = RunShell(npm + " publish", src, {{"HOME", work_}});
  ASSERT_EQ(pub.exit_code, 0) << pub.out << pub.err;

  // Where the documented layout puts it: the tarball URL's own path.
  const std::string repo_path = "e2e-npm-mcp/-/e2e-npm-mcp-1.0.0.tgz";
  ASSERT_TRUE(Exists(Storage("ai-npm-local", repo_path)));

  // The registry registers it by that path; its name comes from the package.
  EXPECT_EQ(RegisteredName("ai-npm-local", repo_path), "e2e-npm-mcp");

  ShellResult view = RunShell(npm + " view e2e-npm-mcp version dist.integrity",
                              work_, {{"HOME", work_}});
  ASSERT_EQ(view.exit_code, 0) << view.err;
  EXPECT_THAT(view.out, HasSubstr("1.0.0"));
  EXPECT_THAT(view.out, HasSubstr("sha512-"));

  // npm pack of the published version fetches the tarball through the
  // packument (integrity checked by npm): byte for byte what is stored, and
  // what npm packs from the sources.
  std::filesystem::create_directories(work_ + "/fetched");
  std::filesystem::create_directories(work_ + "/local");
  ShellResult fetched = RunShell(
      npm + " pack e2e-npm-mcp@1.0.0 --pack-destination " + work_ + "/fetched",
      work_, {{"HOME", work_}});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.err;
  ShellResult local =
      RunShell(npm + " pack --pack-destination " + work_ + "/local", src,
               {{"HOME", work_}});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  const std::string stored = ReadFile(Storage("ai-npm-local", repo_path));
  EXPECT_EQ(ReadFile(work_ + "/fetched/e2e-npm-mcp-1.0.0.tgz"), stored);
  EXPECT_EQ(ReadFile(work_ + "/local/e2e-npm-mcp-1.0.0.tgz"), stored);

  // npm install into a project, and npx running the bin.
  const std::string project = work_ + "/project";
  std::filesystem::create_directories(project);
  std::ofstream(project + "/package.json")
      << R"({"name":"p","version":"1.0.0"})";
  ShellResult install =
      RunShell(npm + " install e2e-npm-mcp", project, {{"HOME", work_}});
  ASSERT_EQ(install.exit_code, 0) << install.out << install.err;
  EXPECT_TRUE(Exists(project + "/node_modules/e2e-npm-mcp/index.js"));
  ShellResult npx =
      RunShell(absl::StrCat("/usr/bin/npx", NpmConfig(server_->admin_token()),
                            " -y --registry ", NpmUrl(), " e2e-npm-mcp"),
               work_, {{"HOME", work_}});
  ASSERT_EQ(npx.exit_code, 0) << npx.out << npx.err;
  EXPECT_THAT(npx.out, HasSubstr("hello from e2e-npm-mcp 1.0.0"));

  // Republishing the version: refused (npm reads the packument first and
  // stops; the registry's own 409 is below), the stored tarball unchanged.
  std::ofstream(src + "/index.js", std::ios::app) << "// changed\n";
  ShellResult again = RunShell(npm + " publish", src, {{"HOME", work_}});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.out + again.err,
              AnyOf(HasSubstr("409"), HasSubstr("previously published")));
  EXPECT_EQ(ReadFile(Storage("ai-npm-local", repo_path)), stored);
}

TEST_F(PackageEndpointsTest, NpmRefusesWrongTokensAndReadOnlyPublishers) {
  const std::string repo = "e2e-npm-private";
  CreatePrivateRepository(repo, "npm");
  const std::string src = MakeNpmPackage("e2e-npm-refused", "1.0.0");
  const auto publish = [&](const std::string& token) {
    return RunShell(absl::StrCat(kNpm, NpmConfig(token, repo), " publish"), src,
                    {{"HOME", work_}});
  };
  ShellResult wrong = publish("mcpreg_not-a-token");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_THAT(wrong.out + wrong.err, HasSubstr("401"));

  const std::string reader = TokenWith("npm-reader", "READ", repo);
  ShellResult read_only = publish(reader);
  EXPECT_NE(read_only.exit_code, 0);
  EXPECT_THAT(read_only.out + read_only.err, HasSubstr("403"));
  // npm prints the registry's reason (the refusal's `error`).
  EXPECT_THAT(read_only.out + read_only.err,
              HasSubstr("lacks DEPLOY on repository 'e2e-npm-private'"));
  EXPECT_FALSE(Exists(Storage(repo, "e2e-npm-refused")));

  // DEPLOY is enough to publish; reading needs READ here (no anonymous
  // reads), and a token without it is refused.
  const std::string deployer = TokenWith("npm-deployer", "DEPLOY", repo);
  ShellResult deployed = publish(deployer);
  EXPECT_EQ(deployed.exit_code, 0) << deployed.out << deployed.err;
  const std::string packument =
      absl::StrCat("/api/npm/", repo, "/e2e-npm-refused");
  EXPECT_EQ(Curl(Addr(), "GET", packument, {}).status, 401);
  EXPECT_EQ(Curl(Addr(), "GET", packument, {"Authorization: Bearer " + reader})
                .status,
            200);
  const std::string stranger = TokenWith("npm-stranger", "", "");
  EXPECT_EQ(
      Curl(Addr(), "GET", packument, {"Authorization: Bearer " + stranger})
          .status,
      403);
  // The quickstart's repository reads without a token; a wrong token is
  // still refused there.
  EXPECT_EQ(Curl(Addr(), "GET", "/api/npm/ai-npm-local/simple-mcp", {}).status,
            200);
  EXPECT_EQ(Curl(Addr(), "GET", "/api/npm/ai-npm-local/simple-mcp",
                 {"Authorization: Bearer mcpreg_not-a-token"})
                .status,
            401);
}

// A publish document as npm sends it, for tarball `tgz`, with `integrity`.
std::string PublishDoc(const std::string& name, const std::string& version,
                       const std::string& tgz, const std::string& integrity) {
  return absl::StrCat(
      R"({"_id":")", name, R"(","name":")", name,
      R"(","dist-tags":{"latest":")", version, R"("},"versions":{")", version,
      R"(":{"name":")", name, R"(","version":")", version,
      R"(","dist":{"integrity":")", integrity, R"(","shasum":")",
      packages::Sha1Hex(tgz), R"("}}},"_attachments":{")", name, "-", version,
      R"(.tgz":{"content_type":"application/octet-stream","data":")",
      absl::Base64Escape(tgz), R"(","length":)", tgz.size(), "}}}");
}

TEST_F(PackageEndpointsTest, NpmRefusesBadDigestsAndTraversalAndOneRaceWins) {
  const std::vector<std::string> auth = {"Authorization: Bearer " +
                                         server_->admin_token()};
  const std::string tgz =
      storage::BuildNpmTarball("e2e-digest", "1.0.0", "e2e");
  HttpResult bad = Curl(Addr(), "PUT", "/api/npm/ai-npm-local/e2e-digest", auth,
                        PublishDoc("e2e-digest", "1.0.0", tgz,
                                   packages::Sha512Integrity("other bytes")));
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_THAT(bad.body, HasSubstr("dist.integrity"));
  EXPECT_FALSE(Exists(Storage("ai-npm-local", "e2e-digest")));

  for (const char* path :
       {"/api/npm/ai-npm-local/..%2F..%2Fetc", "/api/npm/ai-npm-local/%2e%2e",
        "/api/npm/ai-npm-local/@x%2F..", "/api/npm/ai-npm-local/a%00b"}) {
    SCOPED_TRACE(path);
    HttpResult r =
        Curl(Addr(), "PUT", path, auth,
             PublishDoc("x", "1.0.0", tgz, packages::Sha512Integrity(tgz)));
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(Curl(Addr(), "GET", path, auth).status, 400);
  }
  EXPECT_EQ(
      Curl(Addr(), "GET",
           "/api/npm/ai-npm-local/e2e-digest/-/..%2F..%2F..%2Fx.tgz", auth)
          .status,
      400);
  // A name in the document other than the URL's.
  EXPECT_EQ(
      Curl(Addr(), "PUT", "/api/npm/ai-npm-local/e2e-a", auth,
           PublishDoc("e2e-b", "1.0.0", tgz, packages::Sha512Integrity(tgz)))
          .status,
      400);
  // A document that agrees with the URL, and a tarball of another package
  // (e2e-digest) or another version: nothing stored.
  HttpResult other = Curl(
      Addr(), "PUT", "/api/npm/ai-npm-local/e2e-other", auth,
      PublishDoc("e2e-other", "1.0.0", tgz, packages::Sha512Integrity(tgz)));
  EXPECT_EQ(other.status, 400) << other.body;
  EXPECT_THAT(other.body, HasSubstr("package.json name"));
  EXPECT_FALSE(Exists(Storage("ai-npm-local", "e2e-other")));
  HttpResult version = Curl(
      Addr(), "PUT", "/api/npm/ai-npm-local/e2e-digest", auth,
      PublishDoc("e2e-digest", "2.0.0", tgz, packages::Sha512Integrity(tgz)));
  EXPECT_EQ(version.status, 400) << version.body;
  EXPECT_FALSE(Exists(Storage("ai-npm-local", "e2e-digest")));
  // Build metadata would give 1.0.0+evil the precedence of 1.0.0.
  const std::string evil =
      storage::BuildNpmTarball("e2e-digest", "1.0.0+evil", "e2e");
  HttpResult build =
      Curl(Addr(), "PUT", "/api/npm/ai-npm-local/e2e-digest", auth,
           PublishDoc("e2e-digest", "1.0.0+evil", evil,
                      packages::Sha512Integrity(evil)));
  EXPECT_EQ(build.status, 400) << build.body;
  EXPECT_THAT(build.body, HasSubstr("build metadata"));

  // Eight publishes of one version at once, each with other bytes: exactly
  // one is stored, and it is whole.
  std::vector<int> statuses(8);
  std::vector<std::string> bodies(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    bodies[i] = storage::BuildNpmTarball(
        "e2e-race", "1.0.0",
        absl::StrCat("tarball number ", i, std::string(100000, 'x')));
    threads.emplace_back([&, i] {
      statuses[i] = Curl(Addr(), "PUT", "/api/npm/ai-npm-local/e2e-race", auth,
                         PublishDoc("e2e-race", "1.0.0", bodies[i],
                                    packages::Sha512Integrity(bodies[i])))
                        .status;
    });
  }
  for (auto& t : threads) t.join();
  int won = -1;
  for (int i = 0; i < 8; ++i) {
    if (statuses[i] == 200) {
      EXPECT_EQ(won, -1) << "two publishes of one version succeeded";
      won = i;
    } else {
      EXPECT_EQ(statuses[i], 409);
    }
  }
  ASSERT_NE(won, -1);
  EXPECT_EQ(ReadFile(Storage("ai-npm-local", "e2e-race/-/e2e-race-1.0.0.tgz")),
            bodies[won]);
  // A republish is 409 however it comes, and changes nothing.
  const std::string republished =
      storage::BuildNpmTarball("e2e-race", "1.0.0", "again");
  HttpResult again = Curl(Addr(), "PUT", "/api/npm/ai-npm-local/e2e-race", auth,
                          PublishDoc("e2e-race", "1.0.0", republished,
                                     packages::Sha512Integrity(republished)));
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(ReadFile(Storage("ai-npm-local", "e2e-race/-/e2e-race-1.0.0.tgz")),
            bodies[won]);
}

TEST_F(PackageEndpointsTest, TwineUploadRegisterAndPipDownload) {
  const std::string wheel = MakeWheel("e2e_pypi_mcp", "1.0.0");
  ShellResult up = Twine(wheel, server_->admin_token());
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  const std::string repo_path =
      "e2e-pypi-mcp/1.0.0/e2e_pypi_mcp-1.0.0-py3-none-any.whl";
  ASSERT_TRUE(Exists(Storage("ai-pypi-local", repo_path)));

  EXPECT_EQ(RegisteredName("ai-pypi-local", repo_path), "e2e-pypi-mcp");

  // pip download through the Simple API (JSON, as pip asks), by a name
  // spelled otherwise (PEP 503 normalization), with the token as password.
  const std::string index =
      absl::StrCat("http://__token__:", server_->admin_token(), "@", Addr(),
                   "/api/pypi/ai-pypi-local/simple");
  const std::string pip = absl::StrCat(
      kPython, " -m pip --disable-pip-version-check --no-cache-dir ");
  ShellResult dl =
      RunShell(absl::StrCat(pip, "download --no-deps --index-url ", index,
                            " --dest ", work_, "/pip E2E.Pypi_Mcp==1.0.0"),
               work_, {{"HOME", work_}});
  ASSERT_EQ(dl.exit_code, 0) << dl.out << dl.err;
  EXPECT_EQ(ReadFile(work_ + "/pip/e2e_pypi_mcp-1.0.0-py3-none-any.whl"),
            ReadFile(wheel));
  // pip install, into a folder of its own.
  ShellResult inst = RunShell(
      absl::StrCat(pip, "install --no-deps --break-system-packages --target ",
                   work_, "/site --index-url ", index, " e2e-pypi-mcp"),
      work_, {{"HOME", work_}});
  ASSERT_EQ(inst.exit_code, 0) << inst.out << inst.err;
  EXPECT_TRUE(Exists(work_ + "/site/e2e_pypi_mcp/__init__.py"));

  // PEP 503 HTML for other installers: #sha256= fragments.
  HttpResult html = Curl(
      Addr(), "GET", "/api/pypi/ai-pypi-local/simple/e2e-pypi-mcp/",
      {"Authorization: Bearer " + server_->admin_token(), "Accept: text/html"});
  EXPECT_EQ(html.status, 200);
  EXPECT_THAT(html.body,
              HasSubstr(absl::StrCat("#sha256=",
                                     packages::Sha256Hex(ReadFile(wheel)))));
  HttpResult projects = Curl(Addr(), "GET", "/api/pypi/ai-pypi-local/simple/",
                             {"Authorization: Bearer " + server_->admin_token(),
                              "Accept: application/vnd.pypi.simple.v1+json"});
  EXPECT_EQ(projects.status, 200);
  EXPECT_THAT(projects.body, HasSubstr(R"("name":"e2e-pypi-mcp")"));

  // Uploading the file again: 409, unchanged.
  ShellResult again = Twine(wheel, server_->admin_token());
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.out + again.err, HasSubstr("409"));
  // The same file spelled otherwise is the same file to pip: 409.
  const std::string respelled =
      absl::StrCat(work_, "/E2E.Pypi_Mcp-1.0.0-py3-none-any.whl");
  std::filesystem::copy_file(wheel, respelled);
  ShellResult spelled = Twine(respelled, server_->admin_token());
  EXPECT_NE(spelled.exit_code, 0);
  EXPECT_THAT(spelled.out + spelled.err, HasSubstr("409"));
  EXPECT_FALSE(Exists(
      Storage("ai-pypi-local",
              "e2e-pypi-mcp/1.0.0/E2E.Pypi_Mcp-1.0.0-py3-none-any.whl")));
}

TEST_F(PackageEndpointsTest, PypiRefusesWrongTokensBadDigestsAndTraversal) {
  const std::string repo = "e2e-pypi-private";
  CreatePrivateRepository(repo, "pypi");
  const std::string wheel = MakeWheel("e2e_pypi_refused", "1.0.0");
  ShellResult wrong = Twine(wheel, "mcpreg_not-a-token", repo);
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_THAT(wrong.out + wrong.err, HasSubstr("401"));
  const std::string reader = TokenWith("pypi-reader", "READ", repo);
  ShellResult read_only = Twine(wheel, reader, repo);
  EXPECT_NE(read_only.exit_code, 0);
  EXPECT_THAT(read_only.out + read_only.err, HasSubstr("403"));
  EXPECT_FALSE(Exists(Storage(repo, "e2e-pypi-refused")));
  ShellResult deployed =
      Twine(wheel, TokenWith("pypi-deployer", "DEPLOY", repo), repo);
  EXPECT_EQ(deployed.exit_code, 0) << deployed.out << deployed.err;

  // pip without credentials: no anonymous reads on this repository.
  const auto pip_download = [&](const std::string& credentials) {
    return RunShell(
        absl::StrCat(kPython,
                     " -m pip --disable-pip-version-check --no-cache-dir "
                     "download --no-deps --no-input --index-url http://",
                     credentials, Addr(), "/api/pypi/", repo, "/simple --dest ",
                     work_, "/anon e2e-pypi-refused"),
        work_, {{"HOME", work_}});
  };
  EXPECT_NE(pip_download("").exit_code, 0);
  ShellResult with_reader = pip_download("__token__:" + reader + "@");
  EXPECT_EQ(with_reader.exit_code, 0) << with_reader.out << with_reader.err;

  // curl as twine would post, with a wrong digest, then a traversing name.
  const std::string wheel2 = MakeWheel("e2e_pypi_refused", "2.0.0");
  const auto upload = [&](const std::string& filename,
                          const std::string& digest,
                          const std::string& file = "") {
    return RunShell(absl::StrCat(
        "curl -sS -o /dev/null -w '%{http_code}' -u ci:",
        server_->admin_token(), " -F ':action=file_upload' ",
        "-F name=e2e-pypi-refused -F version=2.0.0 -F sha256_digest=", digest,
        " -F ",
        ShellQuote(absl::StrCat("content=@", file.empty() ? wheel2 : file,
                                ";filename=", filename)),
        " ", PypiUrl(repo)));
  };
  const std::string sha = packages::Sha256Hex(ReadFile(wheel2));
  EXPECT_EQ(
      upload("e2e_pypi_refused-2.0.0-py3-none-any.whl", std::string(64, '0'))
          .out,
      "400");
  EXPECT_FALSE(Exists(Storage(repo, "e2e-pypi-refused/2.0.0")));
  for (const char* name :
       {"../../e2e_pypi_refused-1.0.0-py3-none-any.whl",
        "..%2Fe2e_pypi_refused-1.0.0-py3-none-any.whl", ".hidden.whl",
        "other-2.0.0-py3-none-any.whl", "e2e_pypi_refused-2.0.0.exe",
        "e2e_pypi_refused-3.0.0-py3-none-any.whl"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(upload(name, sha).out, "400");
  }
  EXPECT_FALSE(Exists(Storage(repo, "e2e-pypi-refused/2.0.0")));
  EXPECT_EQ(Curl(Addr(), "GET",
                 "/api/pypi/ai-pypi-local/packages/..%2F..%2Fai-npm-local%2Fx",
                 {"Authorization: Bearer " + server_->admin_token()})
                .status,
            400);
  // Right digest, but the 1.0.0 wheel's metadata under a 2.0.0 name.
  EXPECT_EQ(upload("e2e_pypi_refused-2.0.0-py3-none-any.whl",
                   packages::Sha256Hex(ReadFile(wheel)), wheel)
                .out,
            "400");
  EXPECT_FALSE(Exists(Storage(repo, "e2e-pypi-refused/2.0.0")));
  // Right digest, DEPLOY: stored.
  EXPECT_EQ(upload("e2e_pypi_refused-2.0.0-py3-none-any.whl", sha).out, "200");
}

// The quickstart's direct (npx) client configuration, as GetClientConfig
// prints it, installs and runs the seeded sample anonymously: packageBaseUrl
// is the host's own REST URL, as ci/serve.sh sets it.
TEST(PackageEndpointsQuickstartTest, TheDirectNpxConfigurationRunsAsPrinted) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sa);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  close(fd);
  const std::string rest = absl::StrCat("127.0.0.1:", ntohs(sa.sin_port));
  RegistryServer server(
      false, 0, false, absl::StrCat(R"("restListen": ")", rest, R"(")"),
      absl::StrCat(R"("packageBaseUrl": "http://)", rest, R"(")"));
  ASSERT_TRUE(server.ok()) << server.error();
  for (int i = 0; i < 100 && Curl(rest, "GET", "/healthz", {}).status != 200;
       ++i) {
    usleep(100 * 1000);
  }
  const std::vector<std::string> admin = {
      "Authorization: Bearer " + server.admin_token(),
      "JFrog-Project-Key: ai-research"};
  HttpResult reg =
      Curl(rest, "POST", "/ml/core/api/v1/mcp-registry/custom-server", admin,
           ReadFile(absl::StrCat(MCPREG_TEST_SOURCE_DIR,
                                 "/examples/register-npm.json")));
  ASSERT_EQ(reg.status, 200) << reg.body;
  HttpResult config = Curl(rest, "GET",
                           "/api/v1/mcp-registry/servers/simple-mcp/"
                           "client-config?client=cursor&launcher=direct",
                           admin);
  ASSERT_EQ(config.status, 200) << config.body;
  google::protobuf::Struct entry;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  config["configJson"].string_value(), &entry)
                  .ok());
  const auto& server_entry = entry.fields()
                                 .at("mcpServers")
                                 .struct_value()
                                 .fields()
                                 .at("simple-mcp")
                                 .struct_value()
                                 .fields();
  std::string command = server_entry.at("command").string_value();
  ASSERT_EQ(command, "npx");
  for (const auto& arg : server_entry.at("args").list_value().values()) {
    absl::StrAppend(&command, " ", ShellQuote(arg.string_value()));
  }
  char dir[] = "/tmp/mcpreg-npx-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  // No token anywhere: the quickstart's repositories allow anonymous reads.
  ShellResult run = RunShell(
      absl::StrCat(
          "printf '%s\\n' "
          "'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}' | ",
          command),
      dir,
      {{"HOME", dir},
       {"npm_config_cache", absl::StrCat(dir, "/cache")},
       {"npm_config_update_notifier", "false"}});
  std::filesystem::remove_all(dir);
  ASSERT_EQ(run.exit_code, 0) << command << "\n" << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr(R"("name":"echo")"));
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace mcpreg::testing

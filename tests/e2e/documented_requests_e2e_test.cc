// The requests users copy into their pipelines, run as printed: the platform
// page's two registrations and its unregister call (examples/ holds its two
// bodies byte for byte), and every command of the README's first steps.
// Only the address and the token are filled in, as a reader would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "re2/re2.h"
#include "tests/support/shared_registry_test.h"
#include "tests/support/shell.h"

namespace mcpreg::testing {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using ::testing::HasSubstr;

std::string SourceFile(const std::string& relative) {
  std::ifstream in(absl::StrCat(MCPREG_TEST_SOURCE_DIR, "/", relative),
                   std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The SHA-256 of the page's two bodies as it prints them: examples/ must keep
// them byte for byte (our own richer ones live beside them).
constexpr char kPypiExampleSha256[] =
    "7c7545be85291b43c5144a237e5cdeab89d68efb26d8f1b248273a4da4dfbc11";
constexpr char kNpmExampleSha256[] =
    "39e34cb469daa72598e0a6e062453f7d01ea93570c3214b2b5e51f117465bfe1";

class PlatformPageTest : public SharedRegistryTest<PlatformPageTest, true> {
 protected:
  static std::string Base() {
    return absl::StrCat("http://", server_->rest_address());
  }
  // GET of one server through REST, as JSON.
  static Struct ServerJson(const std::string& name) {
    HttpResult r = Curl(server_->rest_address(), "GET",
                        "/api/v1/mcp-registry/servers/" + name,
                        {"Authorization: Bearer " + server_->admin_token(),
                         "JFrog-Project-Key: ai-research"});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json;
  }
};

const Value& Field(const Struct& s, const std::string& key) {
  static const Value kNull;
  auto it = s.fields().find(key);
  return it == s.fields().end() ? kNull : it->second;
}

// Every field the request gave an item is stored and returned as sent.
void ExpectItemsAsSent(const Value& sent, const Value& stored,
                       const std::string& what) {
  ASSERT_EQ(sent.list_value().values_size(), stored.list_value().values_size())
      << what;
  for (int i = 0; i < sent.list_value().values_size(); ++i) {
    const Struct& in = sent.list_value().values(i).struct_value();
    const Struct& out = stored.list_value().values(i).struct_value();
    for (const auto& [key, value] : in.fields()) {
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
          value, Field(out, key)))
          << what << "[" << i << "]." << key << ": sent " << value.DebugString()
          << " stored " << Field(out, key).DebugString();
    }
  }
}

TEST_F(PlatformPageTest, ExamplesHoldThePagesBodiesByteForByte) {
  ShellResult sums = RunShell(
      "sha256sum examples/register-pypi.json examples/register-npm.json",
      MCPREG_TEST_SOURCE_DIR);
  ASSERT_EQ(sums.exit_code, 0) << sums.err;
  EXPECT_THAT(sums.out, HasSubstr(kPypiExampleSha256));
  EXPECT_THAT(sums.out, HasSubstr(kNpmExampleSha256));
}

TEST_F(PlatformPageTest, ThePagesRegistrationsRunAsPrintedAndStoreEveryField) {
  struct Example {
    const char* file;
    const char* name;  // the package's own, from its manifest
  };
  for (const Example& example :
       {Example{"examples/register-pypi.json", "mcp-server"},
        Example{"examples/register-npm.json", "simple-mcp"}}) {
    SCOPED_TRACE(example.file);
    const std::string body = SourceFile(example.file);
    ASSERT_FALSE(body.empty());
    ASSERT_EQ(body.find('\''), std::string::npos);  // quotable as printed
    // The page's command, with its body inline as it prints it.
    const std::string command =
        absl::StrCat("curl --location '", Base(),
                     "/ml/core/api/v1/mcp-registry/custom-server' \\\n"
                     "--header 'Content-Type: application/json' \\\n"
                     "--header 'Authorization: Bearer ",
                     server_->admin_token(), "' \\\n--data '", body, "'");
    HttpResult r = CurlCommand(command);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r["created"].bool_value());
    // The response carries the server and the one version registered.
    const Struct& server = r["server"].struct_value();
    EXPECT_EQ(Field(server, "versions").list_value().values_size(), 1);

    Struct sent;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(body, &sent).ok());
    const Struct& info = Field(sent, "mcpServerInfo").struct_value();
    const Struct& artifact = Field(sent, "repoArtifactInfo").struct_value();
    const Struct stored = ServerJson(example.name);
    EXPECT_EQ(Field(stored, "projectKey").string_value(),
              Field(sent, "projectKey").string_value());
    EXPECT_EQ(Field(stored, "displayName").string_value(),
              absl::StrCat(absl::StartsWith(example.file,
                                            "examples/register-"
                                            "pypi")
                               ? "pypi:"
                               : "npm:",
                           Field(artifact, "repoKey").string_value(), ":",
                           example.name));
    EXPECT_EQ(Field(stored, "description").string_value(),
              Field(info, "description").string_value());
    EXPECT_EQ(Field(stored, "latestVersion").string_value(),
              Field(info, "version").string_value());
    const Struct& version =
        Field(stored, "versions").list_value().values(0).struct_value();
    const Struct& stored_artifact = Field(version, "artifact").struct_value();
    for (const char* key : {"repoKey", "repoPath", "readmePath"}) {
      EXPECT_EQ(Field(stored_artifact, key).string_value(),
                Field(artifact, key).string_value())
          << key;
    }
    EXPECT_EQ(Field(version, "description").string_value(),
              Field(info, "description").string_value());
    ExpectItemsAsSent(Field(info, "environmentVariables"),
                      Field(version, "environmentVariables"),
                      "environmentVariables");
    ExpectItemsAsSent(Field(info, "runtimeArguments"),
                      Field(version, "runtimeArguments"), "runtimeArguments");
  }

  // The page's unregister call, as printed.
  const std::string unregister =
      absl::StrCat("curl -X DELETE \"", Base(),
                   "/api/v1/ml/registry/mcp/unregister?name=mcp-server\" \\\n"
                   "-H \"Authorization: Bearer ",
                   server_->admin_token(),
                   "\" \\\n"
                   "-H \"JFrog-Project-Key: ai-research\"");
  HttpResult r = CurlCommand(unregister);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r["displayName"].string_value(), "pypi:ai-pypi-local:mcp-server");
  r = CurlCommand(unregister);
  EXPECT_EQ(r.status, 404) << r.body;
}

// The README's first steps, command by command, against a fresh registry: a
// command annotated "exit N" must exit N, every other one 0, and no curl
// may answer with an error.
class ReadmeTest : public SharedRegistryTest<ReadmeTest, true> {};

struct ReadmeCommand {
  std::string text;
  int expected_exit = 0;
};

std::vector<ReadmeCommand> FirstSteps(const std::string& readme) {
  std::vector<ReadmeCommand> commands;
  const size_t section = readme.find("\n## First steps");
  if (section == std::string::npos) return commands;
  const size_t open = readme.find("```sh\n", section);
  const size_t close = readme.find("\n```", open + 1);
  if (open == std::string::npos || close == std::string::npos) return commands;
  std::string pending;
  for (absl::string_view line :
       absl::StrSplit(readme.substr(open + 6, close - open - 6), '\n')) {
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (pending.empty() && (text.empty() || absl::StartsWith(text, "#"))) {
      continue;
    }
    absl::StrAppend(&pending, line, "\n");
    if (absl::EndsWith(text, "\\")) continue;
    ReadmeCommand c;
    c.text = pending;
    int code = 0;
    if (RE2::PartialMatch(pending, R"(#.*\bexit (\d+))", &code)) {
      c.expected_exit = code;
    }
    commands.push_back(c);
    pending.clear();
  }
  return commands;
}

TEST_F(ReadmeTest, TheFirstStepsRunAsPrinted) {
  const std::vector<ReadmeCommand> commands =
      FirstSteps(SourceFile("README.md"));
  ASSERT_GE(commands.size(), 10u) << "no first steps found in README.md";
  // One script, so that `export` carries on as in the reader's shell; each
  // command's exit code is printed after its output.
  std::string script;
  // npm's config and cache where the test keeps its files, not in the
  // source tree or the user's home.
  const std::string npm_dir = absl::StrCat(server_->home(), "/npm");
  for (const ReadmeCommand& c : commands) {
    std::string text = absl::StrReplaceAll(
        c.text,
        {{"127.0.0.1:8080", server_->rest_address()},
         {"127.0.0.1:7443", server_->address()},
         {".mcpreg/admin-token", server_->admin_token_file()},
         {".mcpreg/npmrc", absl::StrCat(npm_dir, "rc")},
         {"build/bin/mcpreg ", absl::StrCat(MCPREG_TEST_CLI_BINARY, " ")}});
    absl::StrAppend(&script, text, "printf '\\n@@exit %d@@\\n' $?\n");
  }
  ShellResult run = RunShell(script, MCPREG_TEST_SOURCE_DIR,
                             {{"npm_config_cache", npm_dir + "/cache"},
                              {"npm_config_update_notifier", "false"}});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<std::string> outputs;
  std::vector<int> exits;
  re2::StringPiece rest(run.out);
  std::string output;
  int code = 0;
  while (
      RE2::Consume(&rest, R"((?s)(.*?)\n@@exit (\d+)@@\n)", &output, &code)) {
    outputs.push_back(output);
    exits.push_back(code);
  }
  ASSERT_EQ(exits.size(), commands.size()) << run.out << run.err;
  for (size_t i = 0; i < commands.size(); ++i) {
    SCOPED_TRACE(commands[i].text);
    EXPECT_EQ(exits[i], commands[i].expected_exit)
        << outputs[i] << "\nstderr:\n"
        << run.err;
    if (absl::StartsWith(commands[i].text, "curl")) {
      Struct json;
      ASSERT_TRUE(
          google::protobuf::util::JsonStringToMessage(outputs[i], &json).ok())
          << outputs[i];
      EXPECT_FALSE(json.fields().contains("code")) << outputs[i];
    }
  }
}

}  // namespace
}  // namespace mcpreg::testing

// Table tests of request validation: each case breaks one thing in the
// brief's example and expects INVALID_ARGUMENT naming that field.
#include "plugin/src/validation/register_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "google/protobuf/util/json_util.h"
#include "plugin/src/validation/runtime_argument.h"

namespace mcpreg {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

v1::RegisterCustomServerRequest BriefExample() {
  v1::RegisterCustomServerRequest r;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(R"({
    "projectKey": "ai-research",
    "repoArtifactInfo": {
      "repoKey": "ai-pypi-local",
      "repoPath": "org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz",
      "readmePath": "org/project/mcp-server/1.0.0/README.md"},
    "mcpServerInfo": {
      "description": "Example MCP server", "version": "1.0.0",
      "environmentVariables": [
        {"name": "API_BASE_URL", "description": "Where the API lives",
         "format": "url", "isRequired": true},
        {"name": "API_TOKEN", "description": "API credential",
         "format": "string", "isRequired": true, "isSecret": true}],
      "runtimeArguments": [
        {"name": "--port", "description": "Port", "format": "number",
         "type": "named", "defaultValue": "8080"},
        {"name": "config", "format": "json", "type": "positional",
         "defaultValue": "{\"a\": [1, 2]}"}]}})",
                                                          &r)
                  .ok());
  return r;
}

TEST(RegisterValidationTest, TheBriefExampleIsValid) {
  EXPECT_TRUE(ValidateRegisterRequest(BriefExample()).ok());
  auto minimal = BriefExample();
  minimal.mutable_repo_artifact_info()->clear_readme_path();
  minimal.mutable_mcp_server_info()->clear_environment_variables();
  minimal.mutable_mcp_server_info()->clear_runtime_arguments();
  EXPECT_TRUE(ValidateRegisterRequest(minimal).ok());
}

struct Case {
  std::string name;
  std::function<void(v1::RegisterCustomServerRequest&)> mutate;
  std::string field;  // the message starts with "<field>: "
  std::string says;   // and contains this
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

using Req = v1::RegisterCustomServerRequest;
v1::EnvironmentVariable* Env(Req& r, int i) {
  return r.mutable_mcp_server_info()->mutable_environment_variables(i);
}
v1::RuntimeArgument* Arg(Req& r, int i) {
  return r.mutable_mcp_server_info()->mutable_runtime_arguments(i);
}
v1::RepoArtifactInfo* Art(Req& r) { return r.mutable_repo_artifact_info(); }
v1::McpServerInfo* Info(Req& r) { return r.mutable_mcp_server_info(); }

class InvalidRequestTest : public ::testing::TestWithParam<Case> {};

TEST_P(InvalidRequestTest, NamesTheField) {
  Req r = BriefExample();
  GetParam().mutate(r);
  absl::Status s = ValidateRegisterRequest(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), StartsWith(GetParam().field + ": "));
  EXPECT_THAT(std::string(s.message()), HasSubstr(GetParam().says));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, InvalidRequestTest,
    ::testing::Values(
        Case{"NoProject", [](Req& r) { r.clear_project_key(); }, "projectKey",
             "required"},
        Case{"UpperProject", [](Req& r) { r.set_project_key("AI"); },
             "projectKey", "not a project key"},
        Case{"LongProject",
             [](Req& r) { r.set_project_key(std::string(33, 'a')); },
             "projectKey", "not a project key"},
        Case{"NoArtifact", [](Req& r) { r.clear_repo_artifact_info(); },
             "repoArtifactInfo", "required"},
        Case{"NoRepoKey", [](Req& r) { Art(r)->clear_repo_key(); },
             "repoArtifactInfo.repoKey", "required"},
        Case{"SlashInRepoKey", [](Req& r) { Art(r)->set_repo_key("a/b"); },
             "repoArtifactInfo.repoKey", "letters"},
        Case{"NoRepoPath", [](Req& r) { Art(r)->clear_repo_path(); },
             "repoArtifactInfo.repoPath", "required"},
        Case{"TraversingPath", [](Req& r) { Art(r)->set_repo_path("../x"); },
             "repoArtifactInfo.repoPath", ".."},
        Case{"AbsoluteReadme",
             [](Req& r) { Art(r)->set_readme_path("/etc/passwd"); },
             "repoArtifactInfo.readmePath", "absolute"},
        Case{"BadName", [](Req& r) { r.set_name("has space"); }, "name",
             "not a package name"},
        Case{"LongName", [](Req& r) { r.set_name(std::string(215, 'a')); },
             "name", "limit is 214"},
        Case{"NoInfo", [](Req& r) { r.clear_mcp_server_info(); },
             "mcpServerInfo", "required"},
        Case{"NoDescription", [](Req& r) { Info(r)->clear_description(); },
             "mcpServerInfo.description", "required"},
        Case{"LongDescription",
             [](Req& r) { Info(r)->set_description(std::string(4097, 'd')); },
             "mcpServerInfo.description", "limit is 4096"},
        Case{"SecretInDescription",
             [](Req& r) {
               Info(r)->set_description(
                   "use ghp_abcdefghijklmnopqrstuvwxyz0123456789");
             },
             "mcpServerInfo.description", "secret"},
        Case{"NoVersion", [](Req& r) { Info(r)->clear_version(); },
             "mcpServerInfo.version", "required"},
        Case{"BadVersion", [](Req& r) { Info(r)->set_version("one"); },
             "mcpServerInfo.version", "not a version"},
        Case{"NeitherSemVerNorPep440", [](Req& r) { Info(r)->set_version("1.0-beta"); },
             "mcpServerInfo.version", "not a version"},
        Case{"VPrefix", [](Req& r) { Info(r)->set_version("v1.0.0"); },
             "mcpServerInfo.version", "not a version"},
        Case{"EnvNameMissing", [](Req& r) { Env(r, 1)->clear_name(); },
             "mcpServerInfo.environmentVariables[1].name", "required"},
        Case{"EnvNameDigit", [](Req& r) { Env(r, 1)->set_name("1TOKEN"); },
             "mcpServerInfo.environmentVariables[1].name",
             "not an environment variable name"},
        Case{"EnvNameDash", [](Req& r) { Env(r, 0)->set_name("API-URL"); },
             "mcpServerInfo.environmentVariables[0].name",
             "not an environment variable name"},
        Case{"EnvNameUnicode", [](Req& r) { Env(r, 0)->set_name("ÄPI"); },
             "mcpServerInfo.environmentVariables[0].name",
             "not an environment variable name"},
        Case{"EnvDuplicate",
             [](Req& r) { Env(r, 1)->set_name("API_BASE_URL"); },
             "mcpServerInfo.environmentVariables[1].name", "listed twice"},
        Case{"EnvFormat", [](Req& r) { Env(r, 0)->set_format("uri"); },
             "mcpServerInfo.environmentVariables[0].format", "not a format"},
        Case{"EnvSecretInDescription",
             [](Req& r) {
               Env(r, 1)->set_description("password=hunter2hunter2");
             },
             "mcpServerInfo.environmentVariables[1].description", "secret"},
        Case{"TooManyEnv",
             [](Req& r) {
               for (int i = 0; i < 64; ++i) {
                 Info(r)->add_environment_variables()->set_name(
                     "V" + std::to_string(i));
               }
             },
             "mcpServerInfo.environmentVariables", "limit is 64"},
        Case{"ArgNameMissing", [](Req& r) { Arg(r, 0)->clear_name(); },
             "mcpServerInfo.runtimeArguments[0].name", "required"},
        Case{"ArgNameSpace", [](Req& r) { Arg(r, 0)->set_name("--a b"); },
             "mcpServerInfo.runtimeArguments[0].name", "not an argument name"},
        Case{"ArgDuplicate", [](Req& r) { Arg(r, 1)->set_name("--port"); },
             "mcpServerInfo.runtimeArguments[1].name", "listed twice"},
        Case{"ArgType", [](Req& r) { Arg(r, 0)->set_type("flag"); },
             "mcpServerInfo.runtimeArguments[0].type",
             "use one of positional, named, string, int, integer, number, "
             "float, bool, boolean"},
        Case{"ArgTypeIsCaseSensitive",
             [](Req& r) { Arg(r, 0)->set_type("Int"); },
             "mcpServerInfo.runtimeArguments[0].type",
             "not an argument type"},
        Case{"ArgTypeAgainstFormat",
             [](Req& r) {
               Arg(r, 0)->set_type("int");
               Arg(r, 0)->set_format("boolean");
             },
             "mcpServerInfo.runtimeArguments[0].type",
             "'int' takes integer values but the format is 'boolean'"},
        Case{"BoolTypeAgainstUrlFormat",
             [](Req& r) {
               Arg(r, 0)->set_type("bool");
               Arg(r, 0)->set_format("url");
             },
             "mcpServerInfo.runtimeArguments[0].type", "takes boolean values"},
        Case{"IntegerDefaultWithAFraction",
             [](Req& r) {
               Arg(r, 0)->set_format("integer");
               Arg(r, 0)->set_type("int");
               Arg(r, 0)->set_default_value("80.5");
             },
             "mcpServerInfo.runtimeArguments[0].defaultValue",
             "'80.5' is not an integer"},
        Case{"SecretArgumentWithADefault",
             [](Req& r) { Arg(r, 0)->set_is_secret(true); },
             "mcpServerInfo.runtimeArguments[0].defaultValue",
             "a secret argument takes no default"},
        Case{"IntegerDefaultWithALetter",
             [](Req& r) {
               Arg(r, 0)->set_format("integer");
               Arg(r, 0)->set_default_value("8O80");
             },
             "mcpServerInfo.runtimeArguments[0].defaultValue",
             "not an integer"},
        Case{"IntegerDefaultPastSixtyFourBits",
             [](Req& r) {
               Arg(r, 0)->set_format("integer");
               Arg(r, 0)->set_default_value("99999999999999999999");
             },
             "mcpServerInfo.runtimeArguments[0].defaultValue",
             "not an integer"},
        Case{"IntTypeNarrowsANumberFormat",
             [](Req& r) {
               Arg(r, 0)->set_format("number");
               Arg(r, 0)->set_type("int");
               Arg(r, 0)->set_default_value("80.5");
             },
             "mcpServerInfo.runtimeArguments[0].defaultValue",
             "not an integer (the type is int)"},
        Case{"ValueTypeWithoutFormat",
             [](Req& r) {
               Arg(r, 0)->clear_format();
               Arg(r, 0)->set_type("bool");
               Arg(r, 0)->set_default_value("yes");
             },
             "mcpServerInfo.runtimeArguments[0].defaultValue",
             "true or false"},
        Case{"ArgFormat", [](Req& r) { Arg(r, 0)->set_format("int"); },
             "mcpServerInfo.runtimeArguments[0].format",
             "'int' is not a format; use one of string, number, integer, "
             "boolean, url, filepath, json"},
        Case{"NumberDefaultHex",
             [](Req& r) { Arg(r, 0)->set_default_value("0x50"); },
             "mcpServerInfo.runtimeArguments[0].defaultValue", "not a number"},
        Case{"NumberDefault",
             [](Req& r) { Arg(r, 0)->set_default_value("eighty"); },
             "mcpServerInfo.runtimeArguments[0].defaultValue", "not a number"},
        Case{"NumberDefaultTrailing",
             [](Req& r) { Arg(r, 0)->set_default_value("80x"); },
             "mcpServerInfo.runtimeArguments[0].defaultValue", "not a number"},
        Case{"NumberDefaultInf",
             [](Req& r) { Arg(r, 0)->set_default_value("inf"); },
             "mcpServerInfo.runtimeArguments[0].defaultValue", "not a number"},
        Case{"BooleanDefault",
             [](Req& r) {
               Arg(r, 0)->set_format("boolean");
               Arg(r, 0)->set_default_value("yes");
             },
             "mcpServerInfo.runtimeArguments[0].defaultValue", "true or false"},
        Case{"UrlDefault",
             [](Req& r) {
               Arg(r, 0)->set_format("url");
               Arg(r, 0)->set_default_value("localhost:80");
             },
             "mcpServerInfo.runtimeArguments[0].defaultValue",
             "absolute URL"},
        Case{"JsonDefault",
             [](Req& r) { Arg(r, 1)->set_default_value("{\"a\": }"); },
             "mcpServerInfo.runtimeArguments[1].defaultValue", "valid JSON"},
        Case{"SecretNamedArgWithDefault",
             [](Req& r) {
               Arg(r, 0)->set_name("--api-token");
               Arg(r, 0)->set_format("string");
               Arg(r, 0)->set_default_value("abc");
             },
             "mcpServerInfo.runtimeArguments[0].defaultValue", "secret"},
        Case{"SecretLookingDefault",
             [](Req& r) {
               Arg(r, 0)->set_format("string");
               Arg(r, 0)->set_default_value("AKIAABCDEFGHIJKLMNOP");
             },
             "mcpServerInfo.runtimeArguments[0].defaultValue", "secret"},
        Case{"LongDefault",
             [](Req& r) {
               Arg(r, 0)->set_format("string");
               Arg(r, 0)->set_default_value(std::string(1025, 'x'));
             },
             "mcpServerInfo.runtimeArguments[0].defaultValue",
             "limit is 1024"}),
    [](const auto& info) { return info.param.name; });

// The platform page's first request body, byte for byte as it prints it.
TEST(RegisterValidationTest, ThePlatformPagesExamplesAreValid) {
  constexpr char kWithSettings[] = R"({
"projectKey": "ai-research",
"repoArtifactInfo": {
"repoKey": "ai-pypi-local",
"repoPath": "org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz",
"readmePath": "org/project/mcp-server/1.0.0/README.md"
},
"mcpServerInfo": {
"description": "Internal Database Connector for AI Agents",
"version": "1.0.0",
"environmentVariables": [
{
"name": "DB_CONNECTION_STRING",
"description": "Connection string for the production DB",
"format": "string",
"isRequired": true,
"isSecret": true
}
],
"runtimeArguments": [
{
"name": "--port",
"description": "Runtime port for the MCP server",
"format": "integer",
"type": "int",
"defaultValue": "8080"
}
]
}
})";
  Req r;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(kWithSettings, &r).ok());
  EXPECT_TRUE(ValidateRegisterRequest(r).ok())
      << ValidateRegisterRequest(r).message();
}

TEST(RegisterValidationTest, EachAcceptedTypeAndFormatTogether) {
  struct Ok {
    const char* format;
    const char* type;
    const char* default_value;
  };
  for (const Ok& ok : std::vector<Ok>{{"integer", "int", "8080"},
                                      {"integer", "integer", "-1"},
                                      {"number", "int", "0"},
                                      {"number", "float", "1.5e3"},
                                      {"", "number", "2.5"},
                                      {"boolean", "bool", "true"},
                                      {"", "boolean", "false"},
                                      {"url", "string", "https://x.example"},
                                      {"integer", "string", "7"},
                                      {"json", "named", "{\"a\":1}"},
                                      {"filepath", "positional", "/tmp/x"},
                                      {"integer", "", "0"}}) {
    Req r = BriefExample();
    Arg(r, 0)->set_format(ok.format);
    Arg(r, 0)->set_type(ok.type);
    Arg(r, 0)->set_default_value(ok.default_value);
    EXPECT_TRUE(ValidateRegisterRequest(r).ok())
        << ok.format << "/" << ok.type << "/" << ok.default_value << ": "
        << ValidateRegisterRequest(r).message();
  }
}

TEST(ValidateVersionTest, AcceptsSemVerAndPep440) {
  for (const char* v :
       {"1.0.0", "0.0.1", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1",
        "1.0.0-0.3.7", "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85",
        "1.0", "1", "2.0rc1", "1.2.3a4", "1.0.post1", "1.0.dev3", "1!2.0",
        "1.0+local.7"}) {
    EXPECT_TRUE(ValidateVersion(v, "v").ok()) << v;
  }
  for (const char* v : {"", "1.", ".1", "1..0", "1.0.0-", "1.0.0+", "latest",
                        "1.0.0 ", " 1.0.0", "1.0.0/../x", "1,0"}) {
    EXPECT_FALSE(ValidateVersion(v, "v").ok()) << v;
  }
}

TEST(ValidateServerNameTest, AcceptsNpmAndPypiNames) {
  for (const char* n : {"mcp-server", "simple-mcp", "@acme/simple-mcp",
                        "Django", "zope.interface", "a_b", "x"}) {
    EXPECT_TRUE(ValidateServerName(n, "name").ok()) << n;
  }
  for (const char* n : {"", "-x", ".x", "@acme", "@acme/", "a/b", "@A/b", "a b",
                        "a\nb", "../x", "é"}) {
    EXPECT_FALSE(ValidateServerName(n, "name").ok()) << n;
  }
}

TEST(ValidateValueOfFormatTest, EachFormatParsesItsValues) {
  EXPECT_TRUE(ValidateValueOfFormat("-1.5e3", "number", "f").ok());
  EXPECT_TRUE(ValidateValueOfFormat("false", "boolean", "f").ok());
  EXPECT_TRUE(
      ValidateValueOfFormat("https://a.example/x?y=1", "url", "f").ok());
  EXPECT_TRUE(ValidateValueOfFormat("/var/lib/x", "filepath", "f").ok());
  EXPECT_TRUE(ValidateValueOfFormat("[1, \"a\", null]", "json", "f").ok());
  EXPECT_TRUE(ValidateValueOfFormat("anything at all", "string", "f").ok());
  EXPECT_FALSE(ValidateValueOfFormat("nan", "number", "f").ok());
  EXPECT_FALSE(ValidateValueOfFormat(" 1", "number", "f").ok());
  EXPECT_FALSE(ValidateValueOfFormat("TRUE", "boolean", "f").ok());
  EXPECT_FALSE(ValidateValueOfFormat("[1,", "json", "f").ok());
  EXPECT_TRUE(ValidateValueOfFormat("8080", "integer", "f").ok());
  EXPECT_TRUE(ValidateValueOfFormat("0", "integer", "f").ok());
  for (const char* bad : {"80.5", "8O80", "+5", "007", "1e3", "", "-", " 1"}) {
    EXPECT_FALSE(ValidateValueOfFormat(bad, "integer", "f").ok()) << bad;
  }
  for (const char* bad : {".5", "5.", "0x10", "1e", "--1", "1e999"}) {
    EXPECT_FALSE(ValidateValueOfFormat(bad, "number", "f").ok()) << bad;
  }
}

TEST(RuntimeArgumentTest, HowEachKindGoesOnACommandLine) {
  v1::RuntimeArgument port;
  port.set_name("--port");
  port.set_type("int");
  EXPECT_THAT(CommandLineWords(port, "8080"),
              ::testing::ElementsAre("--port", "8080"));
  port.set_type("named");
  EXPECT_THAT(CommandLineWords(port, "8080"),
              ::testing::ElementsAre("--port", "8080"));
  port.set_type("");
  EXPECT_THAT(CommandLineWords(port, "8080"),
              ::testing::ElementsAre("--port", "8080"));
  v1::RuntimeArgument config;
  config.set_name("config");
  config.set_type("positional");
  EXPECT_THAT(CommandLineWords(config, "a.json"),
              ::testing::ElementsAre("a.json"));
  // A named boolean is a flag: present for true, absent for false.
  v1::RuntimeArgument verbose;
  verbose.set_name("--verbose");
  verbose.set_type("bool");
  EXPECT_THAT(CommandLineWords(verbose, "true"),
              ::testing::ElementsAre("--verbose"));
  EXPECT_THAT(CommandLineWords(verbose, "false"), ::testing::IsEmpty());
  verbose.set_type("named");
  verbose.set_format("boolean");
  EXPECT_THAT(CommandLineWords(verbose, "true"),
              ::testing::ElementsAre("--verbose"));
  EXPECT_EQ(EffectiveFormat(verbose), "boolean");
  v1::RuntimeArgument plain;
  EXPECT_EQ(EffectiveFormat(plain), "string");
  plain.set_type("float");
  EXPECT_EQ(EffectiveFormat(plain), "number");
}

TEST(ValidateProjectKeyTest, Examples) {
  EXPECT_TRUE(ValidateProjectKey("ai-research", "projectKey").ok());
  EXPECT_TRUE(ValidateProjectKey("p1", "projectKey").ok());
  EXPECT_FALSE(ValidateProjectKey("a", "projectKey").ok());
  EXPECT_FALSE(ValidateProjectKey("1ab", "projectKey").ok());
  EXPECT_FALSE(ValidateProjectKey("ai_research", "projectKey").ok());
  EXPECT_FALSE(ValidateProjectKey("ai research", "projectKey").ok());
}

}  // namespace
}  // namespace mcpreg

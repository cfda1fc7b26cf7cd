#include "plugin/src/validation/register_validation.h"

#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "plugin/src/validation/runtime_argument.h"
#include "re2/re2.h"
#include "storage/repo/repository_store.h"
#include "storage/repo/safe_path.h"

namespace mcpreg {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

absl::Status CheckLength(absl::string_view value, size_t max,
                         absl::string_view field) {
  if (value.size() > max) {
    return Invalid(
        field, absl::StrCat("is ", value.size(), " bytes; the limit is ", max));
  }
  return absl::OkStatus();
}

// Debian's RE2 takes its own StringPiece, not absl::string_view.
re2::StringPiece Piece(absl::string_view s) { return {s.data(), s.size()}; }

const RE2& Pattern(const char* pattern) {
  // Leaked on purpose: shared by every thread for the life of the process.
  return *new RE2(pattern);
}

// What `value` would have to be to have `format`, or nullopt when it has it.
std::optional<std::string> ValueFormatProblem(absl::string_view value,
                                              absl::string_view format) {
  if (format == "string") return std::nullopt;
  if (format == "integer") {
    // JSON's integers (no '+', no leading zeros), within 64 bits.
    static const RE2& kInteger = Pattern("-?(0|[1-9][0-9]*)");
    int64_t parsed;
    if (RE2::FullMatch(Piece(value), kInteger) &&
        absl::SimpleAtoi(value, &parsed)) {
      return std::nullopt;
    }
    return "an integer";
  }
  if (format == "number") {
    // JSON's numbers: no hex, no "inf", no leading '.', no spaces.
    static const RE2& kNumber =
        Pattern("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");
    double parsed;
    if (RE2::FullMatch(Piece(value), kNumber) &&
        absl::SimpleAtod(value, &parsed) && std::isfinite(parsed)) {
      return std::nullopt;
    }
    return "a number";
  }
  if (format == "boolean") {
    if (value == "true" || value == "false") return std::nullopt;
    return "true or false";
  }
  if (format == "url") {
    static const RE2& kUrl = Pattern("[A-Za-z][A-Za-z0-9+.-]*://[^\\s]+");
    if (RE2::FullMatch(Piece(value), kUrl)) return std::nullopt;
    return "an absolute URL such as https://host/path";
  }
  if (format == "filepath") {
    if (value.find('\0') == absl::string_view::npos) return std::nullopt;
    return "a file path";
  }
  if (format == "json") {
    google::protobuf::Value parsed;
    if (google::protobuf::util::JsonStringToMessage(std::string(value), &parsed)
            .ok()) {
      return std::nullopt;
    }
    return "valid JSON";
  }
  return absl::StrCat("of the unknown format '", format, "'");
}

// Credentials people paste by mistake. The registry stores metadata about
// secrets (names, that they are secret), never a value; a value that looks
// like one is refused rather than stored and shown to every reader.
bool LooksLikeSecret(absl::string_view value) {
  static const RE2& kSecret = Pattern(
      "(AKIA[0-9A-Z]{16})"                     // AWS access key id
      "|(gh[pousr]_[A-Za-z0-9]{30,})"          // GitHub tokens
      "|(github_pat_[A-Za-z0-9_]{30,})"        //
      "|(sk-[A-Za-z0-9_-]{20,})"               // OpenAI-style keys
      "|(xox[abprs]-[A-Za-z0-9-]{10,})"        // Slack tokens
      "|(-----BEGIN [A-Z ]*PRIVATE KEY-----)"  // PEM private keys
      "|(mcpreg_[A-Za-z0-9_-]{20,})"           // our own access tokens
      "|(eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,})"  // JWT
      "|((?i)bearer\\s+[A-Za-z0-9._~+/=-]{16,})"
      "|((?i)(password|passwd|secret|token|api[_-]?key)\\s*[=:]\\s*\\S{6,})");
  return RE2::PartialMatch(Piece(value), kSecret);
}

bool NameSuggestsSecret(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (const char* word :
       {"password", "passwd", "secret", "token", "apikey", "api_key", "api-key",
        "credential", "private_key", "private-key"}) {
    if (absl::StrContains(lower, word)) return true;
  }
  return false;
}

absl::Status CheckNoSecret(absl::string_view value, absl::string_view field) {
  if (LooksLikeSecret(value)) {
    return Invalid(field,
                   "looks like a secret value (a token, key or password); "
                   "the registry never stores secrets — describe the "
                   "variable and mark it isSecret, and supply the value "
                   "when the server runs");
  }
  return absl::OkStatus();
}

absl::Status CheckFormat(absl::string_view format, absl::string_view field) {
  if (format.empty() || IsKnownFormat(format)) return absl::OkStatus();
  return Invalid(field,
                 absl::StrCat("'", format, "' is not a format; use one of ",
                              kAcceptedFormats));
}

// Formats of one kind can describe the same value ("8080" is an integer and
// a number); formats of different kinds cannot.
absl::string_view KindOf(absl::string_view format) {
  if (format == "integer" || format == "number") return "numeric";
  if (format == "boolean") return "boolean";
  return "text";
}

// `type`: an argument kind or a value type, and a value type that agrees
// with the declared format. "string" agrees with every format: any value on
// a command line is a string.
absl::Status CheckArgumentType(const v1::RuntimeArgument& arg,
                               absl::string_view at) {
  if (arg.type().empty()) return absl::OkStatus();
  const std::string field = absl::StrCat(at, ".type");
  if (!IsKnownArgumentType(arg.type())) {
    return Invalid(field, absl::StrCat("'", arg.type(),
                                       "' is not an argument type; use one "
                                       "of ",
                                       kAcceptedArgumentTypes));
  }
  const std::optional<absl::string_view> implied =
      FormatOfValueType(arg.type());
  if (implied.has_value() && *implied != "string" && !arg.format().empty() &&
      IsKnownFormat(arg.format()) && KindOf(*implied) != KindOf(arg.format())) {
    return Invalid(
        field, absl::StrCat("'", arg.type(), "' takes ", *implied,
                            " values but the format is '", arg.format(), "'"));
  }
  return absl::OkStatus();
}

// A default must be a value of the declared format and of the value type,
// when the type names a stricter one (format number, type int: an integer).
absl::Status CheckDefaultValue(const v1::RuntimeArgument& arg,
                               absl::string_view field) {
  const std::string format = EffectiveFormat(arg);
  if (absl::Status s =
          ValidateValueOfFormat(arg.default_value(), format, field);
      !s.ok()) {
    return s;
  }
  const std::optional<absl::string_view> implied =
      FormatOfValueType(arg.type());
  if (implied.has_value() && *implied != format) {
    if (std::optional<std::string> expected =
            ValueFormatProblem(arg.default_value(), *implied)) {
      return Invalid(
          field, absl::StrCat("'", arg.default_value(), "' is not ", *expected,
                              " (the type is ", arg.type(), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateEnvironmentVariables(const v1::McpServerInfo& info) {
  if (info.environment_variables_size() > kMaxEnvironmentVariables) {
    return Invalid(
        "mcpServerInfo.environmentVariables",
        absl::StrCat("has ", info.environment_variables_size(),
                     " entries; the limit is ", kMaxEnvironmentVariables));
  }
  static const RE2& kEnvName = Pattern("[A-Za-z_][A-Za-z0-9_]*");
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < info.environment_variables_size(); ++i) {
    const v1::EnvironmentVariable& env = info.environment_variables(i);
    const std::string at =
        absl::StrCat("mcpServerInfo.environmentVariables[", i, "]");
    const std::string name_field = absl::StrCat(at, ".name");
    if (env.name().empty()) return Invalid(name_field, "is required");
    if (absl::Status s = CheckLength(env.name(), kMaxItemNameBytes, name_field);
        !s.ok()) {
      return s;
    }
    if (!RE2::FullMatch(env.name(), kEnvName)) {
      return Invalid(name_field,
                     absl::StrCat("'", env.name(),
                                  "' is not an environment variable name: use "
                                  "letters, digits and '_', not starting with "
                                  "a digit"));
    }
    if (!seen.insert(env.name()).second) {
      return Invalid(name_field,
                     absl::StrCat("'", env.name(), "' is listed twice"));
    }
    const std::string description_field = absl::StrCat(at, ".description");
    if (absl::Status s = CheckLength(
            env.description(), kMaxItemDescriptionBytes, description_field);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckNoSecret(env.description(), description_field);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckFormat(env.format(), absl::StrCat(at, ".format"));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRuntimeArguments(const v1::McpServerInfo& info) {
  if (info.runtime_arguments_size() > kMaxRuntimeArguments) {
    return Invalid(
        "mcpServerInfo.runtimeArguments",
        absl::StrCat("has ", info.runtime_arguments_size(),
                     " entries; the limit is ", kMaxRuntimeArguments));
  }
  static const RE2& kArgName = Pattern("-{0,2}[A-Za-z0-9][A-Za-z0-9_.-]*");
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < info.runtime_arguments_size(); ++i) {
    const v1::RuntimeArgument& arg = info.runtime_arguments(i);
    const std::string at =
        absl::StrCat("mcpServerInfo.runtimeArguments[", i, "]");
    const std::string name_field = absl::StrCat(at, ".name");
    if (arg.name().empty()) return Invalid(name_field, "is required");
    if (absl::Status s = CheckLength(arg.name(), kMaxItemNameBytes, name_field);
        !s.ok()) {
      return s;
    }
    if (!RE2::FullMatch(arg.name(), kArgName)) {
      return Invalid(name_field,
                     absl::StrCat("'", arg.name(),
                                  "' is not an argument name: use letters, "
                                  "digits, '_', '.', '-', optionally after "
                                  "'-' or '--'"));
    }
    if (!seen.insert(arg.name()).second) {
      return Invalid(name_field,
                     absl::StrCat("'", arg.name(), "' is listed twice"));
    }
    const std::string description_field = absl::StrCat(at, ".description");
    if (absl::Status s = CheckLength(
            arg.description(), kMaxItemDescriptionBytes, description_field);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckNoSecret(arg.description(), description_field);
        !s.ok()) {
      return s;
    }
    const std::string format_field = absl::StrCat(at, ".format");
    if (absl::Status s = CheckFormat(arg.format(), format_field); !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckArgumentType(arg, at); !s.ok()) return s;
    const std::string default_field = absl::StrCat(at, ".defaultValue");
    if (arg.default_value().empty()) continue;
    if (absl::Status s = CheckLength(arg.default_value(), kMaxDefaultValueBytes,
                                     default_field);
        !s.ok()) {
      return s;
    }
    if (arg.is_secret()) {
      return Invalid(default_field,
                     "a secret argument takes no default: the registry never "
                     "stores secret values; supply it when the server runs");
    }
    if (NameSuggestsSecret(arg.name())) {
      return Invalid(default_field,
                     absl::StrCat("'", arg.name(),
                                  "' names a secret; the registry never "
                                  "stores secret values, so it takes no "
                                  "default — supply it when the server runs"));
    }
    if (absl::Status s = CheckNoSecret(arg.default_value(), default_field);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckDefaultValue(arg, default_field); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateProjectKey(absl::string_view key,
                                absl::string_view field) {
  if (key.empty()) return Invalid(field, "is required");
  static const RE2& kProject = Pattern("[a-z][a-z0-9-]{1,31}");
  if (!RE2::FullMatch(Piece(key), kProject)) {
    return Invalid(field, absl::StrCat("'", key,
                                       "' is not a project key: 2-32 "
                                       "lower-case letters, digits or '-', "
                                       "starting with a letter"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRepoKey(absl::string_view key, absl::string_view field) {
  return storage::CheckRepositoryKey(key, field);
}

absl::Status ValidateServerName(absl::string_view name,
                                absl::string_view field) {
  if (name.empty()) return Invalid(field, "is required");
  if (absl::Status s = CheckLength(name, kMaxServerNameBytes, field); !s.ok()) {
    return s;
  }
  static const RE2& kName =
      Pattern("(@[a-z0-9][a-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*");
  if (!RE2::FullMatch(Piece(name), kName)) {
    return Invalid(field,
                   absl::StrCat("'", name,
                                "' is not a package name: letters, digits, "
                                "'.', '_', '-', optionally after an npm "
                                "'@scope/'"));
  }
  return absl::OkStatus();
}

absl::Status ValidateVersion(absl::string_view version,
                             absl::string_view field) {
  if (version.empty()) return Invalid(field, "is required");
  if (absl::Status s = CheckLength(version, kMaxVersionBytes, field); !s.ok()) {
    return s;
  }
  static const RE2& kSemVer = Pattern(
      "(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)"
      "(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*"
      ")?");
  // PEP 440, canonical spelling (what `python -m build` writes).
  static const RE2& kPep440 = Pattern(
      "([1-9][0-9]*!)?[0-9]+(\\.[0-9]+)*((a|b|rc)[0-9]+)?(\\.post[0-9]+)?"
      "(\\.dev[0-9]+)?(\\+[a-z0-9]+(\\.[a-z0-9]+)*)?");
  if (RE2::FullMatch(Piece(version), kSemVer) ||
      RE2::FullMatch(Piece(version), kPep440)) {
    return absl::OkStatus();
  }
  return Invalid(field, absl::StrCat("'", version,
                                     "' is not a version: use Semantic "
                                     "Versioning (1.2.3, 1.2.3-beta.1) or "
                                     "PEP 440 (1.2, 1.2.3rc1, 1.2.post1)"));
}

absl::Status ValidateValueOfFormat(absl::string_view value,
                                   absl::string_view format,
                                   absl::string_view field) {
  if (std::optional<std::string> expected = ValueFormatProblem(value, format)) {
    return Invalid(field, absl::StrCat("'", value, "' is not ", *expected,
                                       " (the format is ", format, ")"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRegisterRequest(
    const v1::RegisterCustomServerRequest& request) {
  if (absl::Status s = ValidateProjectKey(request.project_key(), "projectKey");
      !s.ok()) {
    return s;
  }
  if (!request.has_repo_artifact_info()) {
    return Invalid("repoArtifactInfo", "is required");
  }
  const v1::RepoArtifactInfo& artifact = request.repo_artifact_info();
  if (absl::Status s =
          ValidateRepoKey(artifact.repo_key(), "repoArtifactInfo.repoKey");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = storage::CheckRelativePath(artifact.repo_path(),
                                                  "repoArtifactInfo.repoPath");
      !s.ok()) {
    return s;
  }
  if (!artifact.readme_path().empty()) {
    if (absl::Status s = storage::CheckRelativePath(
            artifact.readme_path(), "repoArtifactInfo.readmePath");
        !s.ok()) {
      return s;
    }
  }
  if (!request.name().empty()) {
    if (absl::Status s = ValidateServerName(request.name(), "name"); !s.ok()) {
      return s;
    }
  }
  if (!request.has_mcp_server_info()) {
    return Invalid("mcpServerInfo", "is required");
  }
  const v1::McpServerInfo& info = request.mcp_server_info();
  if (info.description().empty()) {
    return Invalid("mcpServerInfo.description", "is required");
  }
  if (absl::Status s = CheckLength(info.description(), kMaxDescriptionBytes,
                                   "mcpServerInfo.description");
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckNoSecret(info.description(), "mcpServerInfo.description");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateVersion(info.version(), "mcpServerInfo.version");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateEnvironmentVariables(info); !s.ok()) return s;
  return ValidateRuntimeArguments(info);
}

}  // namespace mcpreg

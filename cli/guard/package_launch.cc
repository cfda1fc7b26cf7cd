#include "cli/guard/package_launch.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/cli_common.h"
#include "plugin/src/validation/runtime_argument.h"

namespace mcpreg::cli {
namespace {

namespace fs = std::filesystem;

// PEP 503's normalized name: "My_Server" and "my-server" are one package.
std::string Normalized(absl::string_view name) {
  std::string out;
  for (char c : absl::AsciiStrToLower(name)) {
    out += (c == '_' || c == '.') ? '-' : c;
  }
  return out;
}

// A path inside the package, refused if it climbs out of it.
absl::StatusOr<fs::path> Inside(const fs::path& root, absl::string_view rel,
                                absl::string_view what) {
  const fs::path joined = (root / std::string(rel)).lexically_normal();
  const std::string r = root.lexically_normal().string();
  if (!absl::StartsWith(joined.string(), r) ||
      absl::StrContains(std::string(rel), "..")) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " '", rel, "' points outside the package"));
  }
  return joined;
}

// A "module:function" entry point as a python3 command line.
std::vector<std::string> PythonEntryPoint(absl::string_view spec) {
  std::vector<std::string> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(spec), ':');
  if (parts.size() == 1) return {"python3", "-m", parts[0]};
  // "module:obj.attr" calls obj.attr(); extras ("[x]") are ignored.
  std::string object = std::string(
      absl::StripAsciiWhitespace(parts[1].substr(0, parts[1].find('['))));
  const std::string root = object.substr(0, object.find('.'));
  return {
      "python3", "-c",
      absl::StrCat("import sys; from ", absl::StripAsciiWhitespace(parts[0]),
                   " import ", root, "; sys.exit(", object, "())")};
}

// The entry points of one [section] in an INI/TOML-like text: "name = spec".
std::map<std::string, std::string> EntryPoints(absl::string_view text,
                                               absl::string_view section) {
  std::map<std::string, std::string> out;
  bool in = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (absl::StartsWith(line, "[")) {
      in = line == section;
      continue;
    }
    if (!in || line.empty() || absl::StartsWith(line, "#")) continue;
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    std::string key(absl::StripAsciiWhitespace(line.substr(0, eq)));
    std::string value(absl::StripAsciiWhitespace(line.substr(eq + 1)));
    absl::StripAsciiWhitespace(&value);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) {
      value = value.substr(1, value.size() - 2);
    }
    if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'')) {
      key = key.substr(1, key.size() - 2);
    }
    out[key] = value;
  }
  return out;
}

// Of several entry points, the one named after the package, else the only
// one.
absl::StatusOr<std::string> PickEntry(
    const std::map<std::string, std::string>& entries,
    absl::string_view package_name, absl::string_view where) {
  for (const auto& [name, spec] : entries) {
    if (Normalized(name) == Normalized(package_name)) return spec;
  }
  if (entries.size() == 1) return entries.begin()->second;
  std::vector<std::string> names;
  for (const auto& [name, spec] : entries) names.push_back(name);
  return absl::FailedPreconditionError(absl::StrCat(
      where, " declares ", entries.size(), " entry points (",
      absl::StrJoin(names, ", "), ") and none is named after the package '",
      package_name, "'"));
}

absl::StatusOr<Launch> NpmLaunch(const fs::path& tree,
                                 const std::string& package_name) {
  const fs::path root = tree / "package";
  nlohmann::json manifest =
      nlohmann::json::parse(Slurp(root / "package.json"), nullptr, false);
  if (manifest.is_discarded() || !manifest.is_object()) {
    return absl::FailedPreconditionError(
        "the npm package has no readable package/package.json");
  }
  std::string bin;
  const nlohmann::json& b = manifest.value("bin", nlohmann::json());
  if (b.is_string()) {
    bin = b.get<std::string>();
  } else if (b.is_object() && !b.empty()) {
    std::map<std::string, std::string> entries;
    for (const auto& [name, path] : b.items()) {
      if (path.is_string()) entries[name] = path.get<std::string>();
    }
    const std::string unscoped =
        package_name.substr(package_name.rfind('/') + 1);
    absl::StatusOr<std::string> picked =
        PickEntry(entries, unscoped, "package.json's bin");
    if (!picked.ok()) return picked.status();
    bin = *picked;
  } else if (manifest.value("main", nlohmann::json()).is_string()) {
    bin = manifest["main"].get<std::string>();
  } else {
    return absl::FailedPreconditionError(
        "package.json declares no bin (nor main) for the guard to run");
  }
  absl::StatusOr<fs::path> script = Inside(root, bin, "package.json's bin");
  if (!script.ok()) return script.status();
  Launch l;
  l.argv = {"node", script->string()};
  l.working_dir = root.string();
  return l;
}

absl::StatusOr<Launch> WheelLaunch(const fs::path& tree,
                                   const std::string& package_name) {
  Launch l;
  l.working_dir = tree.string();
  l.env["PYTHONPATH"] = tree.string();
  for (const auto& entry : fs::directory_iterator(tree)) {
    if (!absl::EndsWith(entry.path().filename().string(), ".dist-info")) {
      continue;
    }
    const std::map<std::string, std::string> scripts = EntryPoints(
        Slurp(entry.path() / "entry_points.txt"), "[console_scripts]");
    if (scripts.empty()) break;
    absl::StatusOr<std::string> spec =
        PickEntry(scripts, package_name, "entry_points.txt");
    if (!spec.ok()) return spec.status();
    l.argv = PythonEntryPoint(*spec);
    return l;
  }
  const std::string module =
      absl::StrReplaceAll(Normalized(package_name), {{"-", "_"}});
  if (fs::exists(tree / module / "__main__.py")) {
    l.argv = {"python3", "-m", module};
    return l;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the wheel declares no console_scripts entry point and has no ", module,
      "/__main__.py"));
}

absl::StatusOr<Launch> SdistLaunch(const fs::path& tree,
                                   const std::string& package_name) {
  // One top folder, <name>-<version>/, with the source in src/ or beside
  // pyproject.toml.
  fs::path top;
  for (const auto& entry : fs::directory_iterator(tree)) {
    if (entry.is_directory()) top = entry.path();
  }
  if (top.empty()) {
    return absl::FailedPreconditionError("the sdist has no top folder");
  }
  Launch l;
  l.working_dir = top.string();
  const fs::path source = fs::exists(top / "src") ? top / "src" : top;
  l.env["PYTHONPATH"] = source.string();
  const std::map<std::string, std::string> scripts =
      EntryPoints(Slurp(top / "pyproject.toml"), "[project.scripts]");
  if (!scripts.empty()) {
    absl::StatusOr<std::string> spec =
        PickEntry(scripts, package_name, "pyproject.toml");
    if (!spec.ok()) return spec.status();
    l.argv = PythonEntryPoint(*spec);
    return l;
  }
  const std::string module =
      absl::StrReplaceAll(Normalized(package_name), {{"-", "_"}});
  if (fs::exists(source / module / "__main__.py")) {
    l.argv = {"python3", "-m", module};
    return l;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the sdist declares no [project.scripts] in pyproject.toml and has no ",
      module, "/__main__.py"));
}

}  // namespace

absl::StatusOr<Launch> LaunchCommand(const std::string& tree,
                                     const std::string& file_name,
                                     const std::string& package_type,
                                     const std::string& package_name) {
  if (package_type == "npm") return NpmLaunch(tree, package_name);
  if (absl::EndsWith(file_name, ".whl")) return WheelLaunch(tree, package_name);
  return SdistLaunch(tree, package_name);
}

absl::Status AddRuntimeArguments(
    const v1::ServerVersion& version,
    const std::map<std::string, std::string>& overrides,
    const std::vector<std::string>& extra, Launch& launch) {
  for (const v1::RuntimeArgument& arg : version.runtime_arguments()) {
    auto it = overrides.find(arg.name());
    const std::string value =
        it != overrides.end() ? it->second : arg.default_value();
    if (value.empty() && arg.is_required()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the server needs the argument ", arg.name(),
                       arg.description().empty()
                           ? std::string()
                           : absl::StrCat(" (", arg.description(), ")"),
                       ", which has no default; add `--arg ", arg.name(),
                       "=VALUE` to the guard's arguments in the IDE's entry"));
    }
    if (value.empty()) continue;
    for (std::string& word : CommandLineWords(arg, value)) {
      launch.argv.push_back(std::move(word));
    }
  }
  launch.argv.insert(launch.argv.end(), extra.begin(), extra.end());
  return absl::OkStatus();
}

absl::Status AddEnvironment(const v1::ServerVersion& version, char** environ_in,
                            Launch& launch) {
  std::map<std::string, std::string> env;
  for (char** e = environ_in; e != nullptr && *e != nullptr; ++e) {
    absl::string_view entry(*e);
    const size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) continue;
    const std::string name(entry.substr(0, eq));
    if (absl::StartsWith(name, "MCPREG_")) continue;
    env[name] = std::string(entry.substr(eq + 1));
  }
  for (const v1::EnvironmentVariable& var : version.environment_variables()) {
    if (var.is_required() &&
        (env.find(var.name()) == env.end() || env[var.name()].empty())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the server needs the environment variable ", var.name(),
          var.description().empty()
              ? std::string()
              : absl::StrCat(" (", var.description(), ")"),
          ", which is not set; set it in the IDE's entry for this server"));
    }
  }
  // The package's own settings (PYTHONPATH) win over inherited ones.
  for (auto& [name, value] : launch.env) env[name] = value;
  launch.env = std::move(env);
  return absl::OkStatus();
}

}  // namespace mcpreg::cli

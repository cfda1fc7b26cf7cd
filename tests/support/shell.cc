#include "tests/support/shell.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace mcpreg::testing {
namespace {

// A new empty file in /tmp; its path.
std::string TempFile(const char* what) {
  std::string path = absl::StrCat("/tmp/mcpreg-", what, "-XXXXXX");
  const int fd = mkstemp(path.data());
  if (fd >= 0) close(fd);
  return path;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string ShellQuote(const std::string& text) {
  std::string q = "'";
  for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

ShellResult RunShell(const std::string& script, const std::string& cwd,
                     const std::map<std::string, std::string>& env) {
  const std::string script_file = TempFile("script");
  const std::string out_file = TempFile("out");
  const std::string err_file = TempFile("err");
  {
    std::ofstream s(script_file, std::ios::binary);
    if (!cwd.empty()) s << "cd " << ShellQuote(cwd) << " || exit 97\n";
    for (const auto& [name, value] : env) {
      s << "export " << name << "=" << ShellQuote(value) << "\n";
    }
    s << script << "\n";
  }
  ShellResult r;
  const int status = std::system(
      absl::StrCat("bash ", script_file, " > ", out_file, " 2> ", err_file)
          .c_str());
  if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.out = Slurp(out_file);
  r.err = Slurp(err_file);
  for (const std::string& f : {script_file, out_file, err_file}) {
    std::remove(f.c_str());
  }
  return r;
}

const google::protobuf::Value& HttpResult::operator[](
    const std::string& key) const {
  static const google::protobuf::Value kNull;
  auto it = json.fields().find(key);
  return it == json.fields().end() ? kNull : it->second;
}

HttpResult CurlCommand(const std::string& command, const std::string& cwd) {
  // The status goes last, on a line of its own after the body.
  ShellResult run =
      RunShell(absl::StrCat(command, " -w '\\n%{http_code}'"), cwd);
  HttpResult r;
  if (run.exit_code != 0) {
    r.body = run.err;
    return r;
  }
  const size_t newline = run.out.rfind('\n');
  if (newline == std::string::npos ||
      !absl::SimpleAtoi(run.out.substr(newline + 1), &r.status)) {
    r.body = run.out;
    return r;
  }
  r.body = run.out.substr(0, newline);
  (void)google::protobuf::util::JsonStringToMessage(r.body, &r.json);
  return r;
}

HttpResult Curl(const std::string& address, const std::string& method,
                const std::string& path,
                const std::vector<std::string>& headers,
                const std::string& body) {
  std::string command = absl::StrCat("curl -sS -X ", method);
  for (const std::string& h : headers) {
    absl::StrAppend(&command, " -H ", ShellQuote(h));
  }
  std::string body_file;
  if (!body.empty()) {
    body_file = TempFile("body");
    std::ofstream(body_file, std::ios::binary) << body;
    absl::StrAppend(&command, " -H 'Content-Type: application/json'",
                    " --data-binary @", body_file);
  }
  absl::StrAppend(&command, " ",
                  ShellQuote(absl::StrCat("http://", address, path)));
  HttpResult r = CurlCommand(command);
  if (!body_file.empty()) std::remove(body_file.c_str());
  return r;
}

}  // namespace mcpreg::testing

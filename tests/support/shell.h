// Commands as a user types them, for end-to-end tests: a bash script run
// to completion, and curl against the REST gateway with its JSON answer.
#ifndef MCPREG_TESTS_SUPPORT_SHELL_H_
#define MCPREG_TESTS_SUPPORT_SHELL_H_

#include <map>
#include <string>
#include <vector>

#include "google/protobuf/struct.pb.h"

namespace mcpreg::testing {

struct ShellResult {
  int exit_code = -1;  // the script's, or -1 when it could not run
  std::string out;
  std::string err;
};

// Runs `script` with bash in `cwd` ("" = here) with `env` added to the
// environment; thread-safe.
ShellResult RunShell(const std::string& script, const std::string& cwd = "",
                     const std::map<std::string, std::string>& env = {});

// 'text' for a POSIX shell.
std::string ShellQuote(const std::string& text);

struct HttpResult {
  int status = 0;  // 0 when curl itself failed
  std::string body;
  google::protobuf::Struct json;  // empty unless the body is a JSON object
  // A top-level field, or null.
  const google::protobuf::Value& operator[](const std::string& key) const;
};

// curl -sS -X METHOD with `headers` and, when not empty, `body` as a JSON
// request body, against http://ADDRESS/PATH.
HttpResult Curl(const std::string& address, const std::string& method,
                const std::string& path,
                const std::vector<std::string>& headers,
                const std::string& body = "");

// Runs a curl command line whose output is the response body, adding
// -w '%{http_code}' to learn the status.
HttpResult CurlCommand(const std::string& command, const std::string& cwd = "");

}  // namespace mcpreg::testing

#endif  // MCPREG_TESTS_SUPPORT_SHELL_H_

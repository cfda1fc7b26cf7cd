// What every mcpreg command shares: the connection options, per-command flag
// parsing, call contexts carrying the token, output, and exit codes.
#ifndef MCPREG_CLI_CLI_COMMON_H_
#define MCPREG_CLI_CLI_COMMON_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/message.h"

namespace mcpreg::cli {

// Exit codes scripts can rely on (also listed in `mcpreg --help`).
enum ExitCode {
  kOk = 0,
  kRefused = 1,        // the registry answered with an error (bad input, ...)
  kUsage = 2,          // the command line is wrong; nothing was sent
  kUnreachable = 3,    // no answer: host down, database down, deadline passed
  kNotAuthorized = 4,  // no or bad token, or a missing permission
  kNotFound = 5,       // the named server, token or grant does not exist
  kDenied = 6,         // `check`: the tool call is not allowed
};

struct GlobalOptions {
  std::string addr;  // --addr, $MCPREG_ADDR, 127.0.0.1:7443
  // $MCPREG_TOKEN, or read from --token-file / $MCPREG_TOKEN_FILE (a file
  // only its owner may read), or --token (visible to other users in /proc).
  std::string token;
  // TLS: --tls / $MCPREG_TLS=1 with the system's roots, or --ca-file /
  // $MCPREG_CA_FILE; a client certificate with --cert-file and --key-file
  // ($MCPREG_CERT_FILE, $MCPREG_KEY_FILE). Without, plain text.
  bool tls = false;
  std::string ca_file, cert_file, key_file;
  // Their contents, read once by LoadTlsFiles before anything is sent.
  grpc::SslCredentialsOptions tls_files;
  std::string project;  // --project, $MCPREG_PROJECT
  bool json = false;    // --json: print responses as JSON
  int timeout_seconds = 10;
  std::string command;  // "register", "admin token create", ...
};

// A command's own flags: `--name value`, `--name=value`, repeatable values,
// booleans. Unknown flags and missing values are usage errors.
class Flags {
 public:
  void String(const std::string& name, const std::string& help);
  void Repeated(const std::string& name, const std::string& help);
  void Bool(const std::string& name, const std::string& help);

  // False (and `error` set) on a usage error. `--help` sets help_requested.
  bool Parse(const std::vector<std::string>& args, std::string* error);

  const std::string& Get(const std::string& name) const;
  bool Has(const std::string& name) const;
  const std::vector<std::string>& All(const std::string& name) const;
  bool help_requested() const { return help_requested_; }
  std::string Help() const;

 private:
  enum class Kind { kString, kRepeated, kBool };
  struct Spec {
    Kind kind;
    std::string help;
  };
  std::map<std::string, Spec> specs_;
  std::vector<std::string> order_;
  std::map<std::string, std::vector<std::string>> values_;
  bool help_requested_ = false;
};

// Reads the CA, certificate and key files the options name into
// options->tls_files: false and `error` set when one cannot be read, so a
// CA file that is missing never falls back to trusting the system's roots.
bool LoadTlsFiles(GlobalOptions* options, std::string* error);

// The channel to the registry, TLS or plain text as the options say. Warns
// once on stderr when a token would cross a plain-text channel to another
// machine.
std::shared_ptr<grpc::Channel> Connect(const GlobalOptions& options);

// The token in `path`, which only its owner may read (mode 0600 or
// stricter): false and `error` set otherwise.
bool ReadTokenFile(const std::string& path, std::string* token,
                   std::string* error);

// Whether HOST:PORT names this machine (127.0.0.0/8, ::1, localhost).
bool IsLoopbackAddress(const std::string& address);

// Deadline, `authorization: Bearer <token>` and `jfrog-project-key`.
std::unique_ptr<grpc::ClientContext> CallContext(const GlobalOptions& options);

// Prints what went wrong and what to do about it; returns the exit code.
int ReportError(const grpc::Status& status, const GlobalOptions& options);
int UsageError(const std::string& command, const std::string& problem,
               const std::string& usage);

void PrintJson(const google::protobuf::Message& message);

// Columns padded to their widest cell; the first row is the header.
void PrintTable(const std::vector<std::vector<std::string>>& rows);

// Seconds since the epoch as "2026-11-25 21:58:19 UTC", "" when unset.
std::string FormatTime(int64_t seconds);

// The whole file, or "" when it cannot be read (for files whose absence
// the caller detects otherwise: a digest that will not match, JSON that
// will not parse).
std::string Slurp(const std::string& path);

bool ReadFile(const std::string& path, std::string* content,
              std::string* error);

}  // namespace mcpreg::cli

#endif  // MCPREG_CLI_CLI_COMMON_H_

#include "cli/cli_common.h"

#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"

namespace mcpreg::cli {

void Flags::String(const std::string& name, const std::string& help) {
  specs_[name] = {Kind::kString, help};
  order_.push_back(name);
}
void Flags::Repeated(const std::string& name, const std::string& help) {
  specs_[name] = {Kind::kRepeated, help};
  order_.push_back(name);
}
void Flags::Bool(const std::string& name, const std::string& help) {
  specs_[name] = {Kind::kBool, help};
  order_.push_back(name);
}

bool Flags::Parse(const std::vector<std::string>& args, std::string* error) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "-h" || arg == "--help") {
      help_requested_ = true;
      return true;
    }
    if (!absl::StartsWith(arg, "--")) {
      *error = absl::StrCat("unexpected argument '", arg, "'");
      return false;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    auto spec = specs_.find(name);
    if (spec == specs_.end()) {
      *error = absl::StrCat("unknown flag --", name);
      return false;
    }
    if (spec->second.kind == Kind::kBool) {
      if (has_value && value != "true" && value != "false") {
        *error = absl::StrCat("--", name, " takes no value");
        return false;
      }
      values_[name] = {has_value ? value : "true"};
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        *error = absl::StrCat("--", name, " needs a value");
        return false;
      }
      value = args[++i];
    }
    if (spec->second.kind == Kind::kRepeated) {
      values_[name].push_back(value);
    } else {
      values_[name] = {value};
    }
  }
  return true;
}

const std::string& Flags::Get(const std::string& name) const {
  static const std::string kEmpty;
  auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? kEmpty : it->second.back();
}

bool Flags::Has(const std::string& name) const {
  auto it = values_.find(name);
  return it != values_.end() && !it->second.empty() &&
         it->second.back() != "false";
}

const std::vector<std::string>& Flags::All(const std::string& name) const {
  static const std::vector<std::string> kNone;
  auto it = values_.find(name);
  return it == values_.end() ? kNone : it->second;
}

std::string Flags::Help() const {
  std::string out;
  for (const std::string& name : order_) {
    const Spec& spec = specs_.at(name);
    std::string flag = absl::StrCat("  --", name);
    if (spec.kind != Kind::kBool) flag += " VALUE";
    if (flag.size() < 26) flag.resize(26, ' ');
    absl::StrAppend(&out, flag, " ", spec.help,
                    spec.kind == Kind::kRepeated ? " (repeatable)" : "", "\n");
  }
  return out;
}

bool IsLoopbackAddress(const std::string& address) {
  std::string host = address.substr(0, address.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

bool ReadTokenFile(const std::string& path, std::string* token,
                   std::string* error) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    *error = absl::StrCat("cannot read the token file ", path, ": ",
                          strerror(errno));
    return false;
  }
  if ((st.st_mode & 077) != 0) {
    *error = absl::StrCat("the token file ", path,
                          " may be read by others; chmod 600 it first");
    return false;
  }
  std::string content;
  if (!ReadFile(path, &content, error)) return false;
  *token = std::string(absl::StripAsciiWhitespace(content));
  if (token->empty()) {
    *error = absl::StrCat("the token file ", path, " is empty");
    return false;
  }
  return true;
}

bool LoadTlsFiles(GlobalOptions* options, std::string* error) {
  const std::pair<const std::string*, std::string*> files[] = {
      {&options->ca_file, &options->tls_files.pem_root_certs},
      {&options->cert_file, &options->tls_files.pem_cert_chain},
      {&options->key_file, &options->tls_files.pem_private_key}};
  for (const auto& [path, pem] : files) {
    if (!path->empty() && !ReadFile(*path, pem, error)) return false;
  }
  return true;
}

std::shared_ptr<grpc::Channel> Connect(const GlobalOptions& options) {
  if (!options.tls) {
    static bool warned = false;
    if (!options.token.empty() && !IsLoopbackAddress(options.addr) && !warned) {
      warned = true;
      std::cerr << "mcpreg: warning: sending the access token in plain text "
                   "to "
                << options.addr << "; use --tls (or MCPREG_TLS=1)\n";
    }
    return grpc::CreateChannel(options.addr,
                               grpc::InsecureChannelCredentials());
  }
  return grpc::CreateChannel(options.addr,
                             grpc::SslCredentials(options.tls_files));
}

std::unique_ptr<grpc::ClientContext> CallContext(const GlobalOptions& options) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(options.timeout_seconds));
  if (!options.token.empty()) {
    ctx->AddMetadata("authorization", "Bearer " + options.token);
  }
  if (!options.project.empty()) {
    ctx->AddMetadata("jfrog-project-key", options.project);
  }
  return ctx;
}

int ReportError(const grpc::Status& status, const GlobalOptions& options) {
  std::cerr << "mcpreg " << options.command << ": " << status.error_message()
            << "\n";
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      std::cerr << "hint: is mcpreg-host running at " << options.addr
                << " and its database up? Set --addr or MCPREG_ADDR; retrying "
                   "is safe.\n";
      return kUnreachable;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      std::cerr << "hint: no answer within " << options.timeout_seconds
                << "s; raise --timeout or check the host. Retrying is safe.\n";
      return kUnreachable;
    case grpc::StatusCode::UNAUTHENTICATED:
      std::cerr << "hint: pass an access token with --token or MCPREG_TOKEN "
                   "(an admin creates one with `mcpreg admin token create`).\n";
      return kNotAuthorized;
    case grpc::StatusCode::PERMISSION_DENIED:
      std::cerr << "hint: an admin can grant it with `mcpreg admin grant add "
                   "--principal NAME --permission ALLOW|READ --resource "
                   "KEY`.\n";
      return kNotAuthorized;
    case grpc::StatusCode::NOT_FOUND:
      return kNotFound;
    default:
      return kRefused;
  }
}

int UsageError(const std::string& command, const std::string& problem,
               const std::string& usage) {
  std::cerr << "mcpreg " << command << ": " << problem << "\n\n" << usage;
  return kUsage;
}

void PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = false;
  (void)google::protobuf::util::MessageToJsonString(message, &json, print);
  std::cout << json;
}

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size())
        line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

std::string FormatTime(int64_t seconds) {
  if (seconds == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC",
                          absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool ReadFile(const std::string& path, std::string* content,
              std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = absl::StrCat("cannot read '", path, "'");
    return false;
  }
  std::stringstream s;
  s << in.rdbuf();
  *content = s.str();
  return true;
}

}  // namespace mcpreg::cli

#include "plugin/src/handlers/caller_info.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "plugin/src/handlers/server_access.h"

namespace mcpreg {
namespace {

constexpr size_t kMaxCallerField = 128;

// A JSON string literal. The text has no control characters (validated),
// but quotes and backslashes need escaping, and anything else is kept.
std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", static_cast<int>(c));
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

absl::Status ValidateCallerInfo(const v1::CallerInfo& caller,
                                absl::string_view field) {
  for (const auto& [value, name] :
       {std::pair{&caller.client_name(), "clientName"},
        {&caller.client_version(), "clientVersion"},
        {&caller.session_id(), "sessionId"}}) {
    if (value->size() > kMaxCallerField) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".", name, ": at most ", kMaxCallerField, " bytes"));
    }
    if (HasControlCharacter(*value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".", name, ": must not contain control characters"));
    }
  }
  return absl::OkStatus();
}

std::string WithCallerDetails(absl::string_view details,
                              const v1::CallerInfo& caller) {
  std::vector<std::string> fields;
  for (const auto& [value, name] : {std::pair{&caller.client_name(), "client"},
                                    {&caller.client_version(), "clientVersion"},
                                    {&caller.session_id(), "session"}}) {
    if (!value->empty()) {
      fields.push_back(absl::StrCat("\"", name, "\":", JsonString(*value)));
    }
  }
  if (fields.empty()) return std::string(details.empty() ? "{}" : details);
  std::string out(
      details.empty() || details == "{}"
          ? "{"
          : absl::StrCat(details.substr(0, details.size() - 1), ","));
  for (size_t i = 0; i < fields.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ",", fields[i]);
  }
  return out + "}";
}

}  // namespace mcpreg

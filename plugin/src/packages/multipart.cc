#include "plugin/src/packages/multipart.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace mcpreg::packages {
namespace {

// The value of `param` ("boundary", "name") in a header's parameters.
std::string Param(absl::string_view header, absl::string_view param) {
  for (absl::string_view piece : absl::StrSplit(header, ';')) {
    piece = absl::StripAsciiWhitespace(piece);
    const size_t eq = piece.find('=');
    if (eq == absl::string_view::npos) continue;
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(piece.substr(0, eq)),
                                param)) {
      continue;
    }
    absl::string_view v = absl::StripAsciiWhitespace(piece.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
      v = v.substr(1, v.size() - 2);
    }
    return std::string(v);
  }
  return "";
}

absl::Status Malformed(absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("request body: not multipart/form-data (", why, ")"));
}

}  // namespace

absl::StatusOr<std::multimap<std::string, FormPart>> ParseMultipart(
    absl::string_view content_type, absl::string_view body) {
  if (!absl::StartsWithIgnoreCase(content_type, "multipart/form-data")) {
    return absl::InvalidArgumentError(
        "request body: multipart/form-data expected");
  }
  const std::string boundary = Param(content_type, "boundary");
  if (boundary.empty() || boundary.size() > 200) {
    return Malformed("no boundary");
  }
  const std::string delimiter = absl::StrCat("--", boundary);
  size_t at = body.find(delimiter);
  if (at == absl::string_view::npos) return Malformed("no part");
  std::multimap<std::string, FormPart> parts;
  while (true) {
    at += delimiter.size();
    if (body.substr(at, 2) == "--") return parts;  // the closing delimiter
    if (body.substr(at, 2) != "\r\n") return Malformed("bad delimiter line");
    at += 2;
    const size_t head_end = body.find("\r\n\r\n", at);
    if (head_end == absl::string_view::npos) return Malformed("no headers");
    const absl::string_view head = body.substr(at, head_end - at);
    const size_t content_start = head_end + 4;
    const size_t next =
        body.find(absl::StrCat("\r\n", delimiter), content_start);
    if (next == absl::string_view::npos) return Malformed("unterminated part");
    std::string name, filename;
    for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
      const size_t colon = line.find(':');
      if (colon == absl::string_view::npos) continue;
      if (absl::EqualsIgnoreCase(
              absl::StripAsciiWhitespace(line.substr(0, colon)),
              "content-disposition")) {
        const absl::string_view v = line.substr(colon + 1);
        name = Param(v, "name");
        filename = Param(v, "filename");
      }
    }
    if (name.empty()) return Malformed("a part without a name");
    parts.emplace(
        name, FormPart{filename, std::string(body.substr(
                                     content_start, next - content_start))});
    if (parts.size() > 1000) return Malformed("more than 1000 parts");
    at = next + 2;
  }
}

}  // namespace mcpreg::packages

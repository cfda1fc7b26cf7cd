#include "policy/tool_definition.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace mcpreg::policy {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;

// The members of a tools/list entry that are not pinned: metadata for the
// client (`_meta`, which servers may vary per listing) and icons for the
// person. Everything else is, members MCP does not define yet included — a
// client might show them to the model.
constexpr absl::string_view kUnpinnedMembers[] = {"_meta", "icons"};

// Appends the UTF-16 code units of `s` to `*out`; false when `s` is not
// well-formed UTF-8 (overlong forms, surrogates and values past U+10FFFF
// included), which JCS cannot represent.
bool Utf8ToUtf16(absl::string_view s, std::u16string* out) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    size_t n;
    if (b0 < 0x80) {
      cp = b0, n = 1;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      cp = b0 & 0x1f, n = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      cp = b0 & 0x0f, n = 3;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      cp = b0 & 0x07, n = 4;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    if (out != nullptr) {
      if (cp < 0x10000) {
        out->push_back(static_cast<char16_t>(cp));
      } else {
        cp -= 0x10000;
        out->push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
        out->push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
      }
    }
    i += n;
  }
  return true;
}

// ECMAScript's Number::toString for a finite number (ECMA-262, 7.1.12.1),
// which JCS prescribes: the shortest digits that read back as `d`, in plain
// notation for decimal exponents from -7 to 20, else in exponent form.
std::string EcmaNumber(double d) {
  if (d == 0) return "0";  // -0 too
  std::string out;
  if (d < 0) {
    out.push_back('-');
    d = -d;
  }
  char buf[40];
  const auto [end, ec] =
      std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  if (ec != std::errc()) return absl::StrCat(out, d);  // cannot happen
  // "d.ddde+XX" or "de-XX": digits s of length k, and n with d = s x 10^(n-k).
  const absl::string_view sci(buf, end - buf);
  const size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exponent = 0;
  std::from_chars(sci.data() + e + (sci[e + 1] == '+' ? 2 : 1),
                  sci.data() + sci.size(), exponent);
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;
  if (k <= n && n <= 21) {
    absl::StrAppend(&out, digits, std::string(n - k, '0'));
  } else if (0 < n && n <= 21) {
    absl::StrAppend(&out, digits.substr(0, n), ".", digits.substr(n));
  } else if (-6 < n && n <= 0) {
    absl::StrAppend(&out, "0.", std::string(-n, '0'), digits);
  } else {
    absl::StrAppend(&out, digits.substr(0, 1), k > 1 ? "." : "",
                    digits.substr(1), "e", n - 1 > 0 ? "+" : "-",
                    std::abs(n - 1));
  }
  return out;
}

class Writer {
 public:
  Writer(int max_depth, size_t max_bytes)
      : max_depth_(max_depth), max_bytes_(max_bytes) {}

  absl::Status Write(const Value& v, int depth) {
    switch (v.kind_case()) {
      case Value::kNullValue:
        out_ += "null";
        break;
      case Value::kBoolValue:
        out_ += v.bool_value() ? "true" : "false";
        break;
      case Value::kNumberValue:
        if (!std::isfinite(v.number_value())) {
          return absl::InvalidArgumentError(
              "a number is not finite (NaN or infinity has no JSON form)");
        }
        out_ += EcmaNumber(v.number_value());
        break;
      case Value::kStringValue:
        if (absl::Status s = WriteString(v.string_value()); !s.ok()) return s;
        break;
      case Value::kStructValue:
        if (absl::Status s = WriteStruct(v.struct_value(), depth + 1);
            !s.ok()) {
          return s;
        }
        break;
      case Value::kListValue:
        if (absl::Status s = EnterContainer(depth + 1); !s.ok()) return s;
        out_.push_back('[');
        for (int i = 0; i < v.list_value().values_size(); ++i) {
          if (i > 0) out_.push_back(',');
          if (absl::Status s = Write(v.list_value().values(i), depth + 1);
              !s.ok()) {
            return s;
          }
        }
        out_.push_back(']');
        break;
      default:
        return absl::InvalidArgumentError("a value has no kind (not JSON)");
    }
    return CheckSize();
  }

  absl::Status WriteStruct(const Struct& s, int depth) {
    std::vector<std::pair<absl::string_view, const Value*>> members;
    members.reserve(s.fields().size());
    for (const auto& [name, value] : s.fields()) {
      members.emplace_back(name, &value);
    }
    return WriteObject(std::move(members), depth);
  }

  // An object of `members`, at nesting `depth` (1 for the outermost).
  absl::Status WriteObject(
      std::vector<std::pair<absl::string_view, const Value*>> members,
      int depth) {
    if (absl::Status s = EnterContainer(depth); !s.ok()) return s;
    // JCS orders names by UTF-16 code units, which differs from UTF-8 byte
    // order (code point order) only past U+FFFF: a surrogate pair sorts
    // before U+E000..U+FFFF.
    std::vector<std::pair<std::u16string, size_t>> keys(members.size());
    for (size_t i = 0; i < members.size(); ++i) {
      if (!Utf8ToUtf16(members[i].first, &keys[i].first)) {
        return absl::InvalidArgumentError("a member name is not valid UTF-8");
      }
      keys[i].second = i;
    }
    std::sort(keys.begin(), keys.end());
    out_.push_back('{');
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i > 0) out_.push_back(',');
      const auto& [name, value] = members[keys[i].second];
      if (absl::Status s = WriteString(name); !s.ok()) return s;
      out_.push_back(':');
      if (absl::Status s = Write(*value, depth); !s.ok()) return s;
    }
    out_.push_back('}');
    return CheckSize();
  }

  std::string Take() { return std::move(out_); }

 private:
  absl::Status EnterContainer(int depth) {
    if (depth > max_depth_) {
      return absl::InvalidArgumentError(
          absl::StrCat("nested deeper than ", max_depth_, " levels"));
    }
    return absl::OkStatus();
  }

  // Checked as the text grows, so that a huge value fails early.
  absl::Status CheckSize() {
    if (out_.size() > max_bytes_) {
      return absl::InvalidArgumentError(
          absl::StrCat("the definition is larger than ", max_bytes_, " bytes"));
    }
    return absl::OkStatus();
  }

  // JSON's required escapes only; everything else as its UTF-8 bytes.
  absl::Status WriteString(absl::string_view s) {
    if (!Utf8ToUtf16(s, nullptr)) {
      return absl::InvalidArgumentError("a string is not valid UTF-8");
    }
    out_.push_back('"');
    for (char c : s) {
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\b':
          out_ += "\\b";
          break;
        case '\f':
          out_ += "\\f";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            constexpr char kHex[] = "0123456789abcdef";
            out_ += "\\u00";
            out_.push_back(kHex[c >> 4]);
            out_.push_back(kHex[c & 0xf]);
          } else {
            out_.push_back(c);
          }
      }
    }
    out_.push_back('"');
    return absl::OkStatus();
  }

  const int max_depth_;
  const size_t max_bytes_;
  std::string out_;
};

}  // namespace

absl::StatusOr<std::string> CanonicalJson(const Value& value, int max_depth) {
  Writer writer(max_depth, std::numeric_limits<size_t>::max());
  if (absl::Status s = writer.Write(value, 0); !s.ok()) return s;
  return writer.Take();
}

absl::StatusOr<std::string> CanonicalDefinition(const Struct& tool,
                                                absl::string_view field) {
  const auto name = tool.fields().find("name");
  if (name == tool.fields().end() ||
      name->second.kind_case() != Value::kStringValue ||
      name->second.string_value().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".name: is required (a non-empty string)"));
  }
  // The pinned members, by reference: the schemas can be large.
  std::vector<std::pair<absl::string_view, const Value*>> members;
  for (const auto& [member, value] : tool.fields()) {
    if (std::find(std::begin(kUnpinnedMembers), std::end(kUnpinnedMembers),
                  member) == std::end(kUnpinnedMembers)) {
      members.emplace_back(member, &value);
    }
  }
  Writer writer(kMaxDefinitionDepth, kMaxDefinitionBytes);
  if (absl::Status s = writer.WriteObject(std::move(members), 1); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", s.message()));
  }
  return writer.Take();
}

std::string DefinitionDigest(absl::string_view canonical_json) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(canonical_json.data(), canonical_json.size(), digest, &length,
             EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace mcpreg::policy

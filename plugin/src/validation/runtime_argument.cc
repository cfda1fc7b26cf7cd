#include "plugin/src/validation/runtime_argument.h"

namespace mcpreg {
namespace {

struct ValueType {
  absl::string_view type;
  absl::string_view format;
};

// Each spelling the platform page and common schemas use, and the format
// its values must have.
constexpr ValueType kValueTypes[] = {
    {"string", "string"},   {"int", "integer"},  {"integer", "integer"},
    {"number", "number"},   {"float", "number"}, {"bool", "boolean"},
    {"boolean", "boolean"},
};

}  // namespace

const char kAcceptedFormats[] =
    "string, number, integer, boolean, url, filepath, json";
const char kAcceptedArgumentTypes[] =
    "positional, named, string, int, integer, number, float, bool, boolean";

bool IsKnownFormat(absl::string_view format) {
  for (absl::string_view known :
       {"string", "number", "integer", "boolean", "url", "filepath", "json"}) {
    if (format == known) return true;
  }
  return false;
}

bool IsKnownArgumentType(absl::string_view type) {
  return type == "positional" || type == "named" ||
         FormatOfValueType(type).has_value();
}

std::optional<absl::string_view> FormatOfValueType(absl::string_view type) {
  for (const ValueType& v : kValueTypes) {
    if (v.type == type) return v.format;
  }
  return std::nullopt;
}

std::string EffectiveFormat(const v1::RuntimeArgument& arg) {
  if (!arg.format().empty()) return arg.format();
  if (std::optional<absl::string_view> implied = FormatOfValueType(arg.type());
      implied.has_value()) {
    return std::string(*implied);
  }
  return "string";
}

bool IsPositional(const v1::RuntimeArgument& arg) {
  return arg.type() == "positional";
}

std::vector<std::string> CommandLineWords(const v1::RuntimeArgument& arg,
                                          absl::string_view value) {
  if (IsPositional(arg)) return {std::string(value)};
  if (EffectiveFormat(arg) == "boolean") {
    if (value == "true") return {arg.name()};
    if (value == "false") return {};
  }
  return {arg.name(), std::string(value)};
}

}  // namespace mcpreg

// The vocabulary of a runtime argument's `format` and `type`, and how an
// argument is put on a command line. Shared by validation, the client
// configurations and the CLI, so that what is accepted and how it is passed
// cannot drift apart. docs/validation.md lists the sets.
//
// Two vocabularies meet in `type`: the platform page's value types ("int",
// "string", ...) and the MCP server schema's argument kinds ("positional",
// "named"). A value-typed argument is a named one whose value has that type.
#ifndef MCPREG_PLUGIN_VALIDATION_RUNTIME_ARGUMENT_H_
#define MCPREG_PLUGIN_VALIDATION_RUNTIME_ARGUMENT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "mcpreg/v1/registry.pb.h"

namespace mcpreg {

// "string, number, integer, boolean, url, filepath, json": for messages.
extern const char kAcceptedFormats[];
// "positional, named, string, int, integer, number, float, bool, boolean".
extern const char kAcceptedArgumentTypes[];

// True for a `format` in kAcceptedFormats (not for "").
bool IsKnownFormat(absl::string_view format);

// True for a `type` in kAcceptedArgumentTypes (not for "").
bool IsKnownArgumentType(absl::string_view type);

// The format a value type implies ("int" -> "integer", "bool" -> "boolean",
// "float" -> "number", "string" -> "string"); nullopt for "", "positional",
// "named" and anything unknown.
std::optional<absl::string_view> FormatOfValueType(absl::string_view type);

// The format the argument's values must have: its `format`, else the one
// its value type implies, else "string".
std::string EffectiveFormat(const v1::RuntimeArgument& arg);

// How the argument goes on a command line: positional only when its type
// says so; every other type (named, a value type, or none) is named.
bool IsPositional(const v1::RuntimeArgument& arg);

// The words `value` adds to a command line: positional -> {value}; a named
// boolean -> {name} for "true" and nothing for "false" (a flag, as argparse
// and commander expect); any other named -> {name, value}.
std::vector<std::string> CommandLineWords(const v1::RuntimeArgument& arg,
                                          absl::string_view value);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_VALIDATION_RUNTIME_ARGUMENT_H_

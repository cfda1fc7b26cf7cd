// Request validation: pure functions, no I/O. Every error is
// INVALID_ARGUMENT and starts with the JSON field path of the offending value
// ("mcpServerInfo.environmentVariables[1].name: ..."), so a caller can fix
// the exact field. The rules are listed in docs/validation.md.
#ifndef MCPREG_PLUGIN_VALIDATION_REGISTER_VALIDATION_H_
#define MCPREG_PLUGIN_VALIDATION_REGISTER_VALIDATION_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "mcpreg/v1/registry.pb.h"

namespace mcpreg {

inline constexpr size_t kMaxDescriptionBytes = 4096;
inline constexpr size_t kMaxItemDescriptionBytes = 1024;
inline constexpr size_t kMaxVersionBytes = 64;
inline constexpr size_t kMaxServerNameBytes = 214;  // npm's limit
inline constexpr int kMaxEnvironmentVariables = 64;
inline constexpr int kMaxRuntimeArguments = 64;
inline constexpr size_t kMaxItemNameBytes = 128;
inline constexpr size_t kMaxDefaultValueBytes = 1024;

// Everything that can be checked without storage: required fields, lengths,
// names, formats, versions, and that no secret value is being sent.
absl::Status ValidateRegisterRequest(
    const v1::RegisterCustomServerRequest& request);

// 2-32 characters: a lower-case letter, then lower-case letters, digits, '-'.
absl::Status ValidateProjectKey(absl::string_view key, absl::string_view field);
// 1-64 letters, digits, '.', '_', '-', starting with a letter or digit.
absl::Status ValidateRepoKey(absl::string_view key, absl::string_view field);
// A package name: npm (optionally "@scope/name") or PyPI, at most 214 bytes.
absl::Status ValidateServerName(absl::string_view name,
                                absl::string_view field);
// Semantic Versioning 2.0 or PEP 440.
absl::Status ValidateVersion(absl::string_view version,
                             absl::string_view field);
// OK when `value` parses as `format` (string, number, boolean, url, filepath,
// json).
absl::Status ValidateValueOfFormat(absl::string_view value,
                                   absl::string_view format,
                                   absl::string_view field);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_VALIDATION_REGISTER_VALIDATION_H_

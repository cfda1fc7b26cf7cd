// Access tokens: random, shown once, stored only as SHA-256.
#ifndef MCPREG_AUTHZ_ACCESS_TOKEN_H_
#define MCPREG_AUTHZ_ACCESS_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "authz/authorizer.h"

namespace mcpreg::authz {

// "mcpreg_" + 43 base64url characters (256 random bits).
absl::StatusOr<std::string> GenerateAccessToken();

// Lower-case hex SHA-256 of the token text.
std::string TokenSha256Hex(absl::string_view token);

// Constant-time equality of two equal-length strings (hash comparison).
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// The token from an "authorization: Bearer <token>" header; UNAUTHENTICATED
// when absent or malformed.
absl::StatusOr<std::string> BearerToken(const Metadata& metadata);

}  // namespace mcpreg::authz

#endif  // MCPREG_AUTHZ_ACCESS_TOKEN_H_

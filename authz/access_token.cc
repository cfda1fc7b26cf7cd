#include "authz/access_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace mcpreg::authz {

absl::StatusOr<std::string> GenerateAccessToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("the system random generator failed");
  }
  std::string encoded;
  absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)),
      &encoded);
  return absl::StrCat("mcpreg_", encoded);
}

std::string TokenSha256Hex(absl::string_view token) {
  // Fetched once: EVP_sha256() would be looked up again on every call, and
  // every call of the hot path hashes its token.
  static const EVP_MD* const sha256 = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(token.data(), token.size(), digest, &length, sha256, nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() &&
         CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::StatusOr<std::string> BearerToken(const Metadata& metadata) {
  for (const auto& [key, value] : metadata) {
    if (key != "authorization") continue;
    absl::string_view v = absl::StripAsciiWhitespace(value);
    if (v.size() > 7 && absl::StartsWithIgnoreCase(v, "bearer ")) {
      absl::string_view token = absl::StripAsciiWhitespace(v.substr(7));
      if (!token.empty() && token.size() <= 512) return std::string(token);
    }
    // Basic with the token as the password (any user name): how twine and
    // pip send credentials to the PyPI endpoints.
    if (v.size() > 6 && absl::StartsWithIgnoreCase(v, "basic ") &&
        v.size() <= 1024) {
      std::string decoded;
      if (absl::Base64Unescape(absl::StripAsciiWhitespace(v.substr(6)),
                               &decoded)) {
        const size_t colon = decoded.find(':');
        if (colon != std::string::npos && colon + 1 < decoded.size() &&
            decoded.size() - colon - 1 <= 512) {
          return decoded.substr(colon + 1);
        }
      }
    }
    return absl::UnauthenticatedError(
        "the authorization header must be 'Bearer <token>' (or Basic with "
        "the token as the password)");
  }
  return absl::UnauthenticatedError(
      "no credentials: send 'authorization: Bearer <token>'");
}

}  // namespace mcpreg::authz

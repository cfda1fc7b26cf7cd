// The digests package clients check: SHA-1 (npm's dist.shasum), SHA-512
// (npm's dist.integrity, Subresource Integrity form) and SHA-256 (PyPI).
#ifndef MCPREG_PLUGIN_SRC_PACKAGES_DIGESTS_H_
#define MCPREG_PLUGIN_SRC_PACKAGES_DIGESTS_H_

#include <openssl/evp.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"

namespace mcpreg::packages {

inline std::string RawDigest(const EVP_MD* md, absl::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), out, &length, md, nullptr);
  return std::string(reinterpret_cast<const char*>(out), length);
}

inline std::string Sha1Hex(absl::string_view bytes) {
  return absl::BytesToHexString(RawDigest(EVP_sha1(), bytes));
}

inline std::string Sha256Hex(absl::string_view bytes) {
  return absl::BytesToHexString(RawDigest(EVP_sha256(), bytes));
}

// "sha512-<base64>", as npm's dist.integrity.
inline std::string Sha512Integrity(absl::string_view bytes) {
  return "sha512-" + absl::Base64Escape(RawDigest(EVP_sha512(), bytes));
}

}  // namespace mcpreg::packages

#endif  // MCPREG_PLUGIN_SRC_PACKAGES_DIGESTS_H_

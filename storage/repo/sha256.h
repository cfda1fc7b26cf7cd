// Incremental SHA-256 (OpenSSL EVP) with a lower-case hex result: the
// artifact digest both storage backends record.
#ifndef MCPREG_STORAGE_REPO_SHA256_H_
#define MCPREG_STORAGE_REPO_SHA256_H_

#include <openssl/evp.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"

namespace mcpreg::storage {

class Sha256 {
 public:
  Sha256() : md_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(md_, EVP_sha256(), nullptr);
  }
  ~Sha256() { EVP_MD_CTX_free(md_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size) {
    EVP_DigestUpdate(md_, data, size);
  }
  // Call once, after the last Update.
  std::string HexDigest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(md_, digest, &length);
    return absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(digest), length));
  }

 private:
  EVP_MD_CTX* md_;
};

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_REPO_SHA256_H_

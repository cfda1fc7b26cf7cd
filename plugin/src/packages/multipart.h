// A multipart/form-data body (RFC 7578), as PyPI's upload API receives it:
// parts by name, with a filename for a file.
#ifndef MCPREG_PLUGIN_SRC_PACKAGES_MULTIPART_H_
#define MCPREG_PLUGIN_SRC_PACKAGES_MULTIPART_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mcpreg::packages {

struct FormPart {
  std::string filename;  // "" for a plain field
  std::string content;
};

// Parts by name, a repeated name's in the order sent (take the first with
// equal_range(name).first: find may return any of them). INVALID_ARGUMENT
// when `content_type` has no boundary or the body is not framed by it.
absl::StatusOr<std::multimap<std::string, FormPart>> ParseMultipart(
    absl::string_view content_type, absl::string_view body);

}  // namespace mcpreg::packages

#endif  // MCPREG_PLUGIN_SRC_PACKAGES_MULTIPART_H_

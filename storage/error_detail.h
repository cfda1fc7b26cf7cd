// What a storage backend knows about a failure that callers must not see
// (a database's host names, addresses, socket paths): carried beside the
// status's message as a payload, for the operator's log. The backends set
// it; the plugin's handlers log it under the call's request id and leave it
// out of what the caller is told.
#ifndef MCPREG_STORAGE_ERROR_DETAIL_H_
#define MCPREG_STORAGE_ERROR_DETAIL_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace mcpreg::storage {

inline constexpr char kErrorDetailPayload[] = "type.mcpreg.dev/backend-detail";

inline absl::Status WithErrorDetail(absl::Status status,
                                    absl::string_view detail) {
  status.SetPayload(kErrorDetailPayload, absl::Cord(detail));
  return status;
}

// "" when there is none.
inline std::string ErrorDetail(const absl::Status& status) {
  const auto detail = status.GetPayload(kErrorDetailPayload);
  return detail.has_value() ? std::string(*detail) : std::string();
}

// `status` with `prefix` before its message, its payloads kept.
inline absl::Status WithPrefix(const absl::Status& status,
                               absl::string_view prefix) {
  absl::Status out(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload(
      [&out](absl::string_view type, const absl::Cord& payload) {
        out.SetPayload(type, payload);
      });
  return out;
}

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_ERROR_DETAIL_H_

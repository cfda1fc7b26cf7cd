#include "host/abi_call.h"

#include "absl/strings/str_cat.h"
#include "plugin/sdk/abi_status.h"

namespace mcpreg::host {

AbiStatus StatusOfCompletion(const mcpreg_call_result* result) {
  AbiStatus s;
  if (result == nullptr) {
    s.code = MCPREG_STATUS_INTERNAL;
    s.message = "the plugin completed the call without a result";
    return s;
  }
  s.code = ClampAbiCode(result->status_code);
  if (result->status_message.data != nullptr) {
    s.message.assign(result->status_message.data, result->status_message.size);
  }
  if (MCPREG_ABI_HAS_FIELD(mcpreg_call_result, status_details,
                           result->struct_size) &&
      result->status_details.data != nullptr) {
    s.details.assign(reinterpret_cast<const char*>(result->status_details.data),
                     result->status_details.size);
  }
  return s;
}

AbiStatus RefusalStatus(int32_t code, absl::string_view method) {
  AbiStatus s;
  s.code = ClampAbiCode(code);
  switch (s.code) {
    case MCPREG_STATUS_RESOURCE_EXHAUSTED:
      s.message = absl::StrCat("the plugin's queue is full; retry ", method,
                               " with backoff");
      break;
    case MCPREG_STATUS_UNAVAILABLE:
      s.message = "the plugin is shutting down; retry on another replica";
      break;
    default:
      s.message =
          absl::StrCat("the plugin refused ", method, " (status ", s.code, ")");
  }
  return s;
}

AbiStatus DeadlineStatus(absl::string_view method) {
  AbiStatus s;
  s.code = MCPREG_STATUS_DEADLINE_EXCEEDED;
  s.message = absl::StrCat(method, " did not complete before its deadline");
  return s;
}

}  // namespace mcpreg::host

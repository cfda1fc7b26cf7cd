// Status codes across the plugin ABI, for both of its sides (the host and
// the plugin's host-callback backends): the ABI's codes are gRPC's, and so
// are absl::StatusCode's, by value — asserted here, as tensorstore asserts
// its wire codes — so converting is a range check, written once.
#ifndef MCPREG_PLUGIN_SDK_ABI_STATUS_H_
#define MCPREG_PLUGIN_SDK_ABI_STATUS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "mcpreg/plugin_abi.h"

namespace mcpreg {

#define MCPREG_SAME_CODE(abi, absl_code)                                \
  static_assert(static_cast<int>(absl::StatusCode::absl_code) == (abi), \
                #abi " and absl::StatusCode::" #absl_code " differ")
MCPREG_SAME_CODE(MCPREG_STATUS_OK, kOk);
MCPREG_SAME_CODE(MCPREG_STATUS_CANCELLED, kCancelled);
MCPREG_SAME_CODE(MCPREG_STATUS_UNKNOWN, kUnknown);
MCPREG_SAME_CODE(MCPREG_STATUS_INVALID_ARGUMENT, kInvalidArgument);
MCPREG_SAME_CODE(MCPREG_STATUS_DEADLINE_EXCEEDED, kDeadlineExceeded);
MCPREG_SAME_CODE(MCPREG_STATUS_NOT_FOUND, kNotFound);
MCPREG_SAME_CODE(MCPREG_STATUS_ALREADY_EXISTS, kAlreadyExists);
MCPREG_SAME_CODE(MCPREG_STATUS_PERMISSION_DENIED, kPermissionDenied);
MCPREG_SAME_CODE(MCPREG_STATUS_RESOURCE_EXHAUSTED, kResourceExhausted);
MCPREG_SAME_CODE(MCPREG_STATUS_FAILED_PRECONDITION, kFailedPrecondition);
MCPREG_SAME_CODE(MCPREG_STATUS_ABORTED, kAborted);
MCPREG_SAME_CODE(MCPREG_STATUS_OUT_OF_RANGE, kOutOfRange);
MCPREG_SAME_CODE(MCPREG_STATUS_UNIMPLEMENTED, kUnimplemented);
MCPREG_SAME_CODE(MCPREG_STATUS_INTERNAL, kInternal);
MCPREG_SAME_CODE(MCPREG_STATUS_UNAVAILABLE, kUnavailable);
MCPREG_SAME_CODE(MCPREG_STATUS_DATA_LOSS, kDataLoss);
MCPREG_SAME_CODE(MCPREG_STATUS_UNAUTHENTICATED, kUnauthenticated);
#undef MCPREG_SAME_CODE

// A code that crossed the boundary, clamped to the ABI's range: anything
// else is UNKNOWN, never a value no status code has.
inline int32_t ClampAbiCode(int32_t code) {
  return code < MCPREG_STATUS_OK || code > MCPREG_STATUS_UNAUTHENTICATED
             ? MCPREG_STATUS_UNKNOWN
             : code;
}

inline absl::StatusCode StatusCodeFromAbi(int32_t code) {
  return static_cast<absl::StatusCode>(ClampAbiCode(code));
}

inline int32_t AbiCodeFromStatus(absl::StatusCode code) {
  return ClampAbiCode(static_cast<int32_t>(code));
}

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SDK_ABI_STATUS_H_

// Who is behind a call, as a guard reports it (the MCP client's name and
// version, the guard's session), checked and turned into an audit row's
// details, so the log answers "from which client" as well as "by whom".
#ifndef MCPREG_PLUGIN_SRC_HANDLERS_CALLER_INFO_H_
#define MCPREG_PLUGIN_SRC_HANDLERS_CALLER_INFO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "mcpreg/v1/registry.pb.h"

namespace mcpreg {

// Each field at most 128 bytes, without control characters; `field` is the
// request's name for it ("caller").
absl::Status ValidateCallerInfo(const v1::CallerInfo& caller,
                                absl::string_view field);

// `details` (a JSON object, "{}" when empty) with the caller's fields added
// that are set: {"client": ..., "clientVersion": ..., "session": ...}.
std::string WithCallerDetails(absl::string_view details,
                              const v1::CallerInfo& caller);

}  // namespace mcpreg

#endif  // MCPREG_PLUGIN_SRC_HANDLERS_CALLER_INFO_H_

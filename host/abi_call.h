// One plugin call as the ABI carries it, seen from the host: the call info
// the plugin receives, and what a completion or a refusal tells the client.
// The gRPC forwarding service and the REST gateway both go through here, so
// they word one outcome one way.
#ifndef MCPREG_HOST_ABI_CALL_H_
#define MCPREG_HOST_ABI_CALL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "mcpreg/plugin_abi.h"

namespace mcpreg::host {

// The call info for one call. It borrows `method`, `peer` and every key and
// value of `metadata` (a range of pairs whose members have data() and
// size(): gRPC's client metadata, the REST gateway's headers), which must
// outlive it; it must outlive the plugin's `call`.
class AbiCallInfo {
 public:
  template <typename Metadata>
  AbiCallInfo(absl::string_view method, const Metadata& metadata,
              absl::string_view peer, absl::Time deadline) {
    entries_.reserve(metadata.size());
    for (const auto& [key, value] : metadata) {
      entries_.push_back(
          {{key.data(), key.size()},
           {reinterpret_cast<const uint8_t*>(value.data()), value.size()}});
    }
    info_.struct_size = sizeof(info_);
    info_.method = {method.data(), method.size()};
    info_.metadata = entries_.data();
    info_.metadata_count = entries_.size();
    info_.peer = {peer.data(), peer.size()};
    info_.deadline_unix_nanos = absl::ToUnixNanos(deadline);
  }
  AbiCallInfo(const AbiCallInfo&) = delete;
  AbiCallInfo& operator=(const AbiCallInfo&) = delete;

  const mcpreg_call_info& get() const { return info_; }

 private:
  std::vector<mcpreg_metadata_entry> entries_;
  mcpreg_call_info info_{};
};

// How a call ended, as the client will be told (a gRPC status code).
struct AbiStatus {
  int32_t code = MCPREG_STATUS_OK;
  std::string message;
  std::string details;  // serialized google.rpc.Status, may be empty
};

// What a completion says, copied out of the plugin's buffers; INTERNAL when
// the plugin completed without a result, UNKNOWN for a code out of range.
AbiStatus StatusOfCompletion(const mcpreg_call_result* result);

// What a call the plugin refused up front (its `call` returned `code`)
// tells the client.
AbiStatus RefusalStatus(int32_t code, absl::string_view method);

// What a call abandoned at its deadline tells the client.
AbiStatus DeadlineStatus(absl::string_view method);

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_ABI_CALL_H_

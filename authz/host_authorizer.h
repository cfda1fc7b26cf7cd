// Asks the host's own access service through the ABI's authorize slot, for
// platforms that keep permissions elsewhere.
#ifndef MCPREG_AUTHZ_HOST_AUTHORIZER_H_
#define MCPREG_AUTHZ_HOST_AUTHORIZER_H_

#include "authz/authorizer.h"
#include "mcpreg/plugin_abi.h"

namespace mcpreg::authz {

class HostAuthorizer : public Authorizer {
 public:
  // `host` must have a non-NULL authorize slot and outlive this object.
  explicit HostAuthorizer(const mcpreg_host_api* host) : host_(host) {}

  absl::StatusOr<Principal> Authenticate(const Metadata& metadata,
                                         absl::Time deadline) override;
  absl::Status Require(const Principal& principal, const Metadata& metadata,
                       Permission permission, const std::string& resource,
                       absl::Time deadline) override;

 private:
  // Calls the host; fills `principal` when the caller was identified.
  absl::StatusOr<int32_t> Ask(const Metadata& metadata, int32_t permission,
                              const std::string& resource,
                              std::string* principal);

  const mcpreg_host_api* host_;
};

// True when the host table has a usable authorize slot.
bool HostHasAuthorizer(const mcpreg_host_api* host);

}  // namespace mcpreg::authz

#endif  // MCPREG_AUTHZ_HOST_AUTHORIZER_H_

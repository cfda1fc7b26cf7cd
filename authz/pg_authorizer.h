// The built-in authorizer: tokens and grants in PostgreSQL (AccessStore).
#ifndef MCPREG_AUTHZ_PG_AUTHORIZER_H_
#define MCPREG_AUTHZ_PG_AUTHORIZER_H_

#include "access_store.h"
#include "authorizer.h"

namespace mcpreg::authz {

class PgAuthorizer : public Authorizer {
 public:
  explicit PgAuthorizer(storage::pg::AccessStore& store) : store_(store) {}

  absl::StatusOr<Principal> Authenticate(const Metadata& metadata,
                                         absl::Time deadline) override;
  absl::Status Require(const Principal& principal, const Metadata& metadata,
                       Permission permission, const std::string& resource,
                       absl::Time deadline) override;

 private:
  storage::pg::AccessStore& store_;
};

}  // namespace mcpreg::authz

#endif  // MCPREG_AUTHZ_PG_AUTHORIZER_H_

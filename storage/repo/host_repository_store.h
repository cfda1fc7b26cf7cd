// Repository storage backed by the host's callbacks (the ABI's
// get_repository / stat_artifact / read_artifact slots), for platforms that
// keep artifacts in their own filestore. Read-only: the host manages
// repositories and artifacts.
#ifndef MCPREG_STORAGE_REPO_HOST_REPOSITORY_STORE_H_
#define MCPREG_STORAGE_REPO_HOST_REPOSITORY_STORE_H_

#include <memory>

#include "mcpreg/plugin_abi.h"
#include "storage/repo/repository_store.h"

namespace mcpreg::storage {

// True when the host table has all three storage slots.
bool HostHasStorage(const mcpreg_host_api* host);

// `host` must outlive the store.
std::unique_ptr<RepositoryStore> NewHostRepositoryStore(
    const mcpreg_host_api* host);

}  // namespace mcpreg::storage

#endif  // MCPREG_STORAGE_REPO_HOST_REPOSITORY_STORE_H_

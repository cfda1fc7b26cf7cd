/*
 * ABI 1.0's layout, frozen: the offset and size of every field of every
 * struct in plugin_abi.h, and the value of every enumerator, as a host built
 * against 1.0 reads them (LP64: Linux and macOS on x86-64 and arm64).
 * Compiling this file is the test: a change that moves a field fails the
 * build with the field's name. A new minor appends fields at a struct's end
 * (marked "since 1.N" in the header) and adds their lines here; it never
 * edits a line above.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mcpreg/plugin_abi.h"

#if UINTPTR_MAX != UINT64_MAX
#error "the frozen layout below is LP64's; add the ILP32 one before using it"
#endif

#define SIZE(type, size) \
  _Static_assert(sizeof(type) == (size), #type " changed size")
#define FIELD(type, field, offset, size)              \
  _Static_assert(offsetof(type, field) == (offset),   \
                 #type "." #field " moved");          \
  _Static_assert(sizeof(((type*)0)->field) == (size), \
                 #type "." #field " changed size")
/* A struct that starts with struct_size only grows: 1.0's size is its least. */
#define GROWS(type, size) \
  _Static_assert(sizeof(type) >= (size), #type " shrank")
#define VALUE(name, value) _Static_assert((name) == (value), #name " changed")

_Static_assert(MCPREG_ABI_MAJOR == 1, "a new major needs a new frozen layout");
_Static_assert(MCPREG_ABI_MINOR >= 0, "minors only grow");
VALUE(MCPREG_PRINCIPAL_CAPACITY, 256);

SIZE(mcpreg_bytes, 16);
FIELD(mcpreg_bytes, data, 0, 8);
FIELD(mcpreg_bytes, size, 8, 8);

SIZE(mcpreg_str, 16);
FIELD(mcpreg_str, data, 0, 8);
FIELD(mcpreg_str, size, 8, 8);

SIZE(mcpreg_metadata_entry, 32);
FIELD(mcpreg_metadata_entry, key, 0, 16);
FIELD(mcpreg_metadata_entry, value, 16, 16);

GROWS(mcpreg_authz_request, 48);
FIELD(mcpreg_authz_request, struct_size, 0, 8);
FIELD(mcpreg_authz_request, metadata, 8, 8);
FIELD(mcpreg_authz_request, metadata_count, 16, 8);
FIELD(mcpreg_authz_request, permission, 24, 4);
FIELD(mcpreg_authz_request, resource, 32, 16);

GROWS(mcpreg_authz_result, 272);
FIELD(mcpreg_authz_result, struct_size, 0, 8);
FIELD(mcpreg_authz_result, decision, 8, 4);
FIELD(mcpreg_authz_result, principal, 12, 256);

GROWS(mcpreg_repository_info, 184);
FIELD(mcpreg_repository_info, struct_size, 0, 8);
FIELD(mcpreg_repository_info, package_type, 8, 32);
FIELD(mcpreg_repository_info, repo_class, 40, 16);
FIELD(mcpreg_repository_info, project_key, 56, 128);

GROWS(mcpreg_artifact_stat, 96);
FIELD(mcpreg_artifact_stat, struct_size, 0, 8);
FIELD(mcpreg_artifact_stat, is_regular_file, 8, 4);
FIELD(mcpreg_artifact_stat, size_bytes, 16, 8);
FIELD(mcpreg_artifact_stat, sha256_hex, 24, 65);

GROWS(mcpreg_host_api, 64);
FIELD(mcpreg_host_api, struct_size, 0, 8);
FIELD(mcpreg_host_api, abi_major, 8, 4);
FIELD(mcpreg_host_api, abi_minor, 12, 4);
FIELD(mcpreg_host_api, host_ctx_host_ptr, 16, 8);
FIELD(mcpreg_host_api, log, 24, 8);
FIELD(mcpreg_host_api, authorize, 32, 8);
FIELD(mcpreg_host_api, get_repository, 40, 8);
FIELD(mcpreg_host_api, stat_artifact, 48, 8);
FIELD(mcpreg_host_api, read_artifact, 56, 8);

GROWS(mcpreg_call_info, 64);
FIELD(mcpreg_call_info, struct_size, 0, 8);
FIELD(mcpreg_call_info, method, 8, 16);
FIELD(mcpreg_call_info, metadata, 24, 8);
FIELD(mcpreg_call_info, metadata_count, 32, 8);
FIELD(mcpreg_call_info, peer, 40, 16);
FIELD(mcpreg_call_info, deadline_unix_nanos, 56, 8);

GROWS(mcpreg_call_result, 64);
FIELD(mcpreg_call_result, struct_size, 0, 8);
FIELD(mcpreg_call_result, status_code, 8, 4);
FIELD(mcpreg_call_result, status_message, 16, 16);
FIELD(mcpreg_call_result, status_details, 32, 16);
FIELD(mcpreg_call_result, response, 48, 16);

GROWS(mcpreg_description, 40);
FIELD(mcpreg_description, struct_size, 0, 8);
FIELD(mcpreg_description, methods, 8, 8);
FIELD(mcpreg_description, method_count, 16, 8);
FIELD(mcpreg_description, file_descriptor_set, 24, 16);

GROWS(mcpreg_plugin_api, 56);
FIELD(mcpreg_plugin_api, struct_size, 0, 8);
FIELD(mcpreg_plugin_api, create, 8, 8);
FIELD(mcpreg_plugin_api, destroy, 16, 8);
FIELD(mcpreg_plugin_api, free_string, 24, 8);
FIELD(mcpreg_plugin_api, describe, 32, 8);
FIELD(mcpreg_plugin_api, call, 40, 8);
FIELD(mcpreg_plugin_api, cancel, 48, 8);

GROWS(mcpreg_plugin_descriptor, 40);
FIELD(mcpreg_plugin_descriptor, struct_size, 0, 8);
FIELD(mcpreg_plugin_descriptor, abi_major, 8, 4);
FIELD(mcpreg_plugin_descriptor, abi_minor, 12, 4);
FIELD(mcpreg_plugin_descriptor, plugin_name, 16, 8);
FIELD(mcpreg_plugin_descriptor, plugin_version, 24, 8);
FIELD(mcpreg_plugin_descriptor, api, 32, 8);

VALUE(MCPREG_STATUS_OK, 0);
VALUE(MCPREG_STATUS_CANCELLED, 1);
VALUE(MCPREG_STATUS_UNKNOWN, 2);
VALUE(MCPREG_STATUS_INVALID_ARGUMENT, 3);
VALUE(MCPREG_STATUS_DEADLINE_EXCEEDED, 4);
VALUE(MCPREG_STATUS_NOT_FOUND, 5);
VALUE(MCPREG_STATUS_ALREADY_EXISTS, 6);
VALUE(MCPREG_STATUS_PERMISSION_DENIED, 7);
VALUE(MCPREG_STATUS_RESOURCE_EXHAUSTED, 8);
VALUE(MCPREG_STATUS_FAILED_PRECONDITION, 9);
VALUE(MCPREG_STATUS_ABORTED, 10);
VALUE(MCPREG_STATUS_OUT_OF_RANGE, 11);
VALUE(MCPREG_STATUS_UNIMPLEMENTED, 12);
VALUE(MCPREG_STATUS_INTERNAL, 13);
VALUE(MCPREG_STATUS_UNAVAILABLE, 14);
VALUE(MCPREG_STATUS_DATA_LOSS, 15);
VALUE(MCPREG_STATUS_UNAUTHENTICATED, 16);
VALUE(MCPREG_LOG_DEBUG, 0);
VALUE(MCPREG_LOG_INFO, 1);
VALUE(MCPREG_LOG_WARNING, 2);
VALUE(MCPREG_LOG_ERROR, 3);
VALUE(MCPREG_PERMISSION_IDENTIFY, 0);
VALUE(MCPREG_PERMISSION_ALLOW, 1);
VALUE(MCPREG_PERMISSION_READ, 2);
VALUE(MCPREG_PERMISSION_ADMIN, 3);
VALUE(MCPREG_AUTHZ_DENY, 0);
VALUE(MCPREG_AUTHZ_ALLOW, 1);
VALUE(MCPREG_AUTHZ_UNAUTHENTICATED, 2);

int main(void) {
  /* Everything is checked at compile time; running says so in the log. */
  printf("plugin ABI %d.%d: layout of 1.0 unchanged\n", MCPREG_ABI_MAJOR,
         MCPREG_ABI_MINOR);
  return 0;
}

/*
 * mcpreg plugin ABI: the one header a host needs to load libmcpreg.so.
 *
 * Plain C99. No C++ type, exception or allocator crosses this boundary. A host
 * written in any language that can dlopen a shared object and call C functions
 * can embed the registry. docs/plugin-abi.md walks through a host step by step.
 *
 * Versioning
 *   MCPREG_ABI_MAJOR changes when an existing struct or function changes
 *   meaning; a host refuses a plugin of another major. MCPREG_ABI_MINOR grows
 *   when something is appended; a host refuses a plugin whose minor is newer
 *   than the one it was compiled with (the plugin may rely on host slots the
 *   host does not have). Every struct starts with `struct_size` and only grows
 *   at its end; a reader uses a field only if
 *       offsetof(T, field) + sizeof(field) <= struct_size
 *   (MCPREG_ABI_HAS_FIELD below). Everything below is ABI 1.0 unless marked
 *   "since 1.N"; tests/unit/abi_layout_test.c freezes 1.0's offsets, sizes
 *   and enumerator values.
 *
 * Naming and ownership
 *   A `_host_ptr` suffix marks a pointer owned by the host, `_module_ptr` one
 *   owned by the plugin. Each function has an OWNERSHIP paragraph. The side
 * that allocates a buffer frees it: strings the plugin allocates for the host
 * are released with mcpreg_plugin_api.free_string.
 *
 * Status codes
 *   Every `int32_t` status in this header is a gRPC status code
 *   (mcpreg_status_code); 0 is success.
 */
#ifndef MCPREG_PLUGIN_ABI_H_
#define MCPREG_PLUGIN_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCPREG_ABI_MAJOR 1
#define MCPREG_ABI_MINOR 0

/* The one symbol a plugin exports; its type is mcpreg_plugin_entry_fn. */
#define MCPREG_PLUGIN_ENTRY_SYMBOL "mcpreg_plugin_entry"

#if defined(_WIN32)
#define MCPREG_PLUGIN_EXPORT __declspec(dllexport)
#else
#define MCPREG_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* True when `field` lies wholly inside the first `size` bytes of `type`. */
#define MCPREG_ABI_HAS_FIELD(type, field, size) \
  (offsetof(type, field) + sizeof(((type*)0)->field) <= (size))

/* gRPC status codes, by value (grpc/status.h). */
typedef enum mcpreg_status_code {
  MCPREG_STATUS_OK = 0,
  MCPREG_STATUS_CANCELLED = 1,
  MCPREG_STATUS_UNKNOWN = 2,
  MCPREG_STATUS_INVALID_ARGUMENT = 3,
  MCPREG_STATUS_DEADLINE_EXCEEDED = 4,
  MCPREG_STATUS_NOT_FOUND = 5,
  MCPREG_STATUS_ALREADY_EXISTS = 6,
  MCPREG_STATUS_PERMISSION_DENIED = 7,
  MCPREG_STATUS_RESOURCE_EXHAUSTED = 8,
  MCPREG_STATUS_FAILED_PRECONDITION = 9,
  MCPREG_STATUS_ABORTED = 10,
  MCPREG_STATUS_OUT_OF_RANGE = 11,
  MCPREG_STATUS_UNIMPLEMENTED = 12,
  MCPREG_STATUS_INTERNAL = 13,
  MCPREG_STATUS_UNAVAILABLE = 14,
  MCPREG_STATUS_DATA_LOSS = 15,
  MCPREG_STATUS_UNAUTHENTICATED = 16
} mcpreg_status_code;

typedef enum mcpreg_log_level {
  MCPREG_LOG_DEBUG = 0,
  MCPREG_LOG_INFO = 1,
  MCPREG_LOG_WARNING = 2,
  MCPREG_LOG_ERROR = 3
} mcpreg_log_level;

/* A borrowed byte range; not NUL-terminated. Who owns it is said where used. */
typedef struct mcpreg_bytes {
  const uint8_t* data;
  size_t size;
} mcpreg_bytes;

/* A borrowed UTF-8 string; not NUL-terminated. */
typedef struct mcpreg_str {
  const char* data;
  size_t size;
} mcpreg_str;

/* One request header. Keys are lower-case; values of keys ending in "-bin"
 * are raw bytes, others are ASCII as sent. */
typedef struct mcpreg_metadata_entry {
  mcpreg_str key;
  mcpreg_bytes value;
} mcpreg_metadata_entry;

/* ------------------------------------------------------------------------ */
/* Host side: the callbacks a host offers the plugin.                       */
/* ------------------------------------------------------------------------ */

/* Permissions the plugin asks an external access service about. */
typedef enum mcpreg_permission {
  /* Only identify the caller: decision ALLOW with the principal filled in,
   * or UNAUTHENTICATED. */
  MCPREG_PERMISSION_IDENTIFY = 0,
  MCPREG_PERMISSION_ALLOW = 1, /* ALLOW on a project's AI catalog */
  MCPREG_PERMISSION_READ = 2,  /* READ on a repository */
  MCPREG_PERMISSION_ADMIN = 3  /* platform administrator */
} mcpreg_permission;

typedef enum mcpreg_authz_decision {
  MCPREG_AUTHZ_DENY = 0,
  MCPREG_AUTHZ_ALLOW = 1,
  /* The credentials in the metadata identify nobody. */
  MCPREG_AUTHZ_UNAUTHENTICATED = 2
} mcpreg_authz_decision;

typedef struct mcpreg_authz_request {
  size_t struct_size;
  /* The call's headers; the credentials are usually in "authorization". */
  const mcpreg_metadata_entry* metadata;
  size_t metadata_count;
  int32_t permission; /* mcpreg_permission */
  /* Project key for ALLOW, repository key for READ, empty for ADMIN. */
  mcpreg_str resource;
} mcpreg_authz_request;

#define MCPREG_PRINCIPAL_CAPACITY 256

typedef struct mcpreg_authz_result {
  size_t struct_size;
  int32_t decision; /* mcpreg_authz_decision */
  /* The caller's name as the audit log should record it, NUL-terminated,
   * truncated to fit. Filled whenever the caller was identified. */
  char principal[MCPREG_PRINCIPAL_CAPACITY];
} mcpreg_authz_result;

/* Repository settings, as the host's artifact platform knows them. */
typedef struct mcpreg_repository_info {
  size_t struct_size;
  char package_type[32]; /* "npm", "pypi", "docker", ... NUL-terminated */
  char repo_class[16];   /* "local", "remote" or "virtual" */
  char project_key[128]; /* project the repository is assigned to, or "" */
} mcpreg_repository_info;

typedef struct mcpreg_artifact_stat {
  size_t struct_size;
  int32_t is_regular_file; /* 1 for a file, 0 for a folder or other */
  uint64_t size_bytes;
  char sha256_hex[65]; /* lower-case hex digest if known, else "" */
} mcpreg_artifact_stat;

/*
 * The host's callback table, handed to mcpreg_plugin_api.create.
 *
 * OWNERSHIP: host-owned; it (and host_ctx_host_ptr) must stay valid until
 * mcpreg_plugin_api.destroy has returned. The plugin copies nothing out of it
 * but function pointers and the context.
 * THREADS: every callback may be called from any plugin thread, concurrently.
 * Optional slots may be NULL: the plugin then uses its built-in backend
 * (grants in PostgreSQL, repositories as folders under a storage root).
 */
typedef struct mcpreg_host_api {
  size_t struct_size;
  uint32_t abi_major; /* what the host was compiled with */
  uint32_t abi_minor;
  void* host_ctx_host_ptr; /* passed back as the first argument of each slot */

  /* Required. Writes one log line. `message` is borrowed for the call. */
  void (*log)(void* host_ctx_host_ptr, int32_t level, mcpreg_str message);

  /* Optional: the host's access service. Blocking. Returns a status code;
   * non-zero means the service itself failed (the plugin answers UNAVAILABLE),
   * not that access was denied. `request` is borrowed; `result` is
   * plugin-owned storage the host fills. */
  int32_t (*authorize)(void* host_ctx_host_ptr,
                       const mcpreg_authz_request* request,
                       mcpreg_authz_result* result);

  /* Optional: the host's repository settings. Blocking. NOT_FOUND when the
   * repository does not exist. `info` is plugin-owned storage. */
  int32_t (*get_repository)(void* host_ctx_host_ptr, mcpreg_str repo_key,
                            mcpreg_repository_info* info);

  /* Optional: stat one artifact. Blocking. NOT_FOUND when absent. The host
   * resolves `path` beneath the repository and refuses escapes. */
  int32_t (*stat_artifact)(void* host_ctx_host_ptr, mcpreg_str repo_key,
                           mcpreg_str path, mcpreg_artifact_stat* stat);

  /* Optional: read up to `capacity` bytes of an artifact from `offset` into
   * the plugin-owned `buffer`; `*bytes_read` is 0 at end of file. Blocking. */
  int32_t (*read_artifact)(void* host_ctx_host_ptr, mcpreg_str repo_key,
                           mcpreg_str path, uint64_t offset, uint8_t* buffer,
                           size_t capacity, size_t* bytes_read);

  /* Slots appended in later minors go here, each marked "since 1.N" as
   * SQLite marks its API routines, with its line added to
   * tests/unit/abi_layout_test.c, which freezes 1.0's layout. */
} mcpreg_host_api;

/* ------------------------------------------------------------------------ */
/* Plugin side: what the plugin offers the host.                            */
/* ------------------------------------------------------------------------ */

typedef struct mcpreg_instance mcpreg_instance; /* opaque, plugin-owned */

/* One incoming unary call. */
typedef struct mcpreg_call_info {
  size_t struct_size;
  /* Fully-qualified gRPC method: "/mcpreg.v1.McpRegistry/GetPluginInfo". */
  mcpreg_str method;
  /* Every request header, in arrival order. */
  const mcpreg_metadata_entry* metadata;
  size_t metadata_count;
  /* The caller's address as the transport saw it, e.g. "ipv4:127.0.0.1:5311".
   */
  mcpreg_str peer;
  /* Absolute deadline in nanoseconds since the Unix epoch (CLOCK_REALTIME);
   * 0 means none. The host finishes the call at this time whether or not the
   * plugin has completed it. */
  int64_t deadline_unix_nanos;
} mcpreg_call_info;

/* How a call ended. */
typedef struct mcpreg_call_result {
  size_t struct_size;
  int32_t status_code; /* mcpreg_status_code */
  mcpreg_str status_message;
  /* Optional serialized google.rpc.Status (grpc-status-details-bin); may be
   * empty. Passed to the client unchanged. */
  mcpreg_bytes status_details;
  /* Serialized response message; only read when status_code is OK. */
  mcpreg_bytes response;
} mcpreg_call_result;

/*
 * Completion callback, supplied by the host with each call.
 *
 * OWNERSHIP: every buffer in `result` is plugin-owned and valid only until
 * this function returns; the host copies what it keeps.
 * THREADS: the plugin calls it exactly once per accepted call, from any thread,
 * possibly before mcpreg_plugin_api.call has returned. It must not block long.
 */
typedef void (*mcpreg_completion_fn)(void* call_ctx_host_ptr,
                                     const mcpreg_call_result* result);

/* What an instance serves. */
typedef struct mcpreg_description {
  size_t struct_size;
  /* Fully-qualified gRPC method names, "/package.Service/Method". */
  const mcpreg_str* methods;
  size_t method_count;
  /* Serialized google.protobuf.FileDescriptorSet holding every file the
   * methods' services and messages need (dependencies included), so a host
   * can transcode JSON and serve reflection with no compiled-in protos. */
  mcpreg_bytes file_descriptor_set;
} mcpreg_description;

typedef struct mcpreg_plugin_api {
  size_t struct_size;

  /*
   * Creates an instance from a JSON object of settings (the plugin documents
   * its keys). Returns 0 and sets *instance_out on success. On failure returns
   * a status code and sets *error_out to a NUL-terminated message that names
   * the problem.
   *
   * OWNERSHIP: `host` must outlive the instance. `config_json` is borrowed for
   * the call. *instance_out is plugin-owned: release it with destroy.
   * *error_out is plugin-owned: release it with free_string.
   * THREADS: any thread. May block (it connects to the database).
   */
  int32_t (*create)(const mcpreg_host_api* host, mcpreg_str config_json,
                    mcpreg_instance** instance_out, char** error_out);

  /*
   * Destroys an instance. The host calls it once, after it has stopped issuing
   * calls. The plugin completes (with CANCELLED if need be) every call it has
   * not completed yet before returning, so no completion arrives afterwards.
   * THREADS: any thread but a completion callback. Blocks until workers stop.
   */
  void (*destroy)(mcpreg_instance* instance);

  /* Releases a string the plugin allocated (create's *error_out). NULL is a
   * no-op. THREADS: any. */
  void (*free_string)(char* string_module_ptr);

  /*
   * Describes the methods the instance serves.
   * OWNERSHIP: every pointer in *description is instance-owned and stays valid
   * and unchanged until destroy. `description` is host-owned storage whose
   * struct_size the host sets; the plugin fills the fields that fit.
   * THREADS: any; cheap.
   */
  int32_t (*describe)(mcpreg_instance* instance,
                      mcpreg_description* description);

  /*
   * Starts one unary call. Returns 0 when the call is accepted: `complete` is
   * then called exactly once, from any thread, possibly before this function
   * returns. Any other return value is the status of a call rejected up front;
   * `complete` is then never called for it.
   *
   * OWNERSHIP: `call` and `request` (the serialized request message) are
   * borrowed until this function returns; the plugin copies what it needs.
   * `call_ctx_host_ptr` is host-owned and stays valid until `complete` runs.
   * THREADS: any; many calls run concurrently. Must not block on I/O.
   */
  int32_t (*call)(mcpreg_instance* instance, const mcpreg_call_info* call,
                  mcpreg_bytes request, mcpreg_completion_fn complete,
                  void* call_ctx_host_ptr);

  /*
   * Asks the plugin to give up on an accepted call: the client went away or
   * its deadline passed. Advisory: the plugin should stop the work and must
   * still call `complete` exactly once (the host ignores what it says then).
   * The host calls it at most once per call, never after `complete` began.
   * THREADS: any.
   */
  void (*cancel)(mcpreg_instance* instance, void* call_ctx_host_ptr);

  /* Functions appended in later minors go here, each marked "since 1.N"
   * (see mcpreg_host_api). */
} mcpreg_plugin_api;

/*
 * What the entry function returns. Static storage, plugin-owned, valid while
 * the library is loaded. A host reads struct_size, abi_major and abi_minor
 * first and reads nothing else from a plugin whose ABI it refuses.
 */
typedef struct mcpreg_plugin_descriptor {
  size_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  const char* plugin_name;    /* NUL-terminated, e.g. "mcpreg" */
  const char* plugin_version; /* NUL-terminated, e.g. "0.1.0" */
  const mcpreg_plugin_api* api;
} mcpreg_plugin_descriptor;

/* The exported entry point. Must be callable any number of times from any
 * thread and must not fail. */
typedef const mcpreg_plugin_descriptor* (*mcpreg_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MCPREG_PLUGIN_ABI_H_ */

#include "plugin/sdk/call_context.h"

#include <algorithm>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace mcpreg::sdk {
namespace {

std::string ToString(mcpreg_str s) {
  return s.data == nullptr ? std::string() : std::string(s.data, s.size);
}

// An identifier, not a secret: it must be unique, not unpredictable, so a
// seeded generator per thread does (OpenSSL's RAND_bytes cost ~4% of a
// cached check's CPU).
std::string NewRequestId() {
  thread_local std::mt19937_64 generator = [] {
    std::random_device device;  // 32 bits a call: seed with 128
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return absl::StrFormat("%016x", generator());
}

// The caller's id is kept only when it is plain text: anything else
// (control bytes, invalid UTF-8 from a REST header) could fail the audit
// insert it travels in, or forge a log line.
bool IsPlainRequestId(absl::string_view id) {
  return !id.empty() && id.size() <= 128 &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                  c == '.' || c == '_' || c == ':' || c == '-';
         });
}

}  // namespace

CallContext::CallContext(const mcpreg_call_info& info)
    : deadline_(absl::InfiniteFuture()) {
  const size_t size = info.struct_size;
  if (MCPREG_ABI_HAS_FIELD(mcpreg_call_info, method, size)) {
    method_ = ToString(info.method);
  }
  if (MCPREG_ABI_HAS_FIELD(mcpreg_call_info, metadata_count, size) &&
      info.metadata != nullptr) {
    metadata_.reserve(info.metadata_count);
    for (size_t i = 0; i < info.metadata_count; ++i) {
      const mcpreg_metadata_entry& e = info.metadata[i];
      metadata_.emplace_back(
          ToString(e.key),
          std::string(reinterpret_cast<const char*>(e.value.data),
                      e.value.data == nullptr ? 0 : e.value.size));
    }
  }
  if (MCPREG_ABI_HAS_FIELD(mcpreg_call_info, peer, size)) {
    peer_ = ToString(info.peer);
  }
  if (MCPREG_ABI_HAS_FIELD(mcpreg_call_info, deadline_unix_nanos, size) &&
      info.deadline_unix_nanos > 0) {
    deadline_ = absl::FromUnixNanos(info.deadline_unix_nanos);
  }
  request_id_ = std::string(Header("x-request-id"));
  if (!IsPlainRequestId(request_id_)) request_id_ = NewRequestId();
}

void CallContext::Cancel() {
  cancelled_.store(true, std::memory_order_release);
  absl::MutexLock lock(&hook_mu_);
  if (hook_) hook_();
}

void CallContext::SetCancelHook(std::function<void()> hook) const {
  absl::MutexLock lock(&hook_mu_);
  hook_ = std::move(hook);
  if (hook_ && cancelled_.load(std::memory_order_acquire)) hook_();
}

void CallContext::ClearCancelHook() const {
  absl::MutexLock lock(&hook_mu_);
  hook_ = nullptr;
}

absl::string_view CallContext::Header(absl::string_view key) const {
  for (const auto& [k, v] : metadata_) {
    if (k == key) return v;
  }
  return {};
}

}  // namespace mcpreg::sdk

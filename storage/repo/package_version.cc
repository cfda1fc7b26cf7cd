#include "storage/repo/package_version.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace mcpreg::storage {
namespace {

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

// Orders two digit strings by value, whatever their length.
int CompareNumbers(absl::string_view a, absl::string_view b) {
  while (a.size() > 1 && a.front() == '0') a.remove_prefix(1);
  while (b.size() > 1 && b.front() == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

int Sign(int v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); }

// --- Semantic Versioning 2.0 --------------------------------------------

struct SemVer {
  std::vector<absl::string_view> core;  // major, minor, patch
  std::vector<absl::string_view> pre;   // empty: a release
};

bool IsIdentifier(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '-') return false;
  }
  return true;
}

bool ParseSemVer(absl::string_view v, SemVer* out) {
  if (const size_t plus = v.find('+'); plus != absl::string_view::npos) {
    for (absl::string_view id : absl::StrSplit(v.substr(plus + 1), '.')) {
      if (!IsIdentifier(id)) return false;
    }
    v = v.substr(0, plus);  // build metadata does not order
  }
  absl::string_view core = v;
  if (const size_t dash = v.find('-'); dash != absl::string_view::npos) {
    core = v.substr(0, dash);
    out->pre = absl::StrSplit(v.substr(dash + 1), '.');
    for (absl::string_view id : out->pre) {
      if (!IsIdentifier(id)) return false;
      if (AllDigits(id) && id.size() > 1 && id.front() == '0') return false;
    }
  }
  out->core = absl::StrSplit(core, '.');
  if (out->core.size() != 3) return false;
  for (absl::string_view n : out->core) {
    if (!AllDigits(n) || (n.size() > 1 && n.front() == '0')) return false;
  }
  return true;
}

int ComparePreReleaseIds(absl::string_view a, absl::string_view b) {
  const bool a_num = AllDigits(a), b_num = AllDigits(b);
  if (a_num && b_num) return CompareNumbers(a, b);
  if (a_num != b_num) return a_num ? -1 : 1;  // numeric ids sort first
  return Sign(a.compare(b));
}

int CompareSemVer(const SemVer& a, const SemVer& b) {
  for (size_t i = 0; i < 3; ++i) {
    if (int c = CompareNumbers(a.core[i], b.core[i]); c != 0) return c;
  }
  if (a.pre.empty() || b.pre.empty()) {
    return a.pre.empty() == b.pre.empty() ? 0 : (a.pre.empty() ? 1 : -1);
  }
  for (size_t i = 0; i < a.pre.size() && i < b.pre.size(); ++i) {
    if (int c = ComparePreReleaseIds(a.pre[i], b.pre[i]); c != 0) return c;
  }
  return a.pre.size() == b.pre.size() ? 0
                                      : (a.pre.size() < b.pre.size() ? -1 : 1);
}

// --- PEP 440 (the canonical spelling the registry accepts) ---------------

struct Pep440 {
  absl::string_view epoch = "0";
  std::vector<absl::string_view> release;
  int pre_kind = -1;                        // -1 none, 0 a, 1 b, 2 rc
  absl::string_view pre_number, post, dev;  // empty: absent
  std::vector<absl::string_view> local;     // empty: absent
};

// Consumes `prefix` and the digits after it from `v`; false (and `v` as it
// was) when `v` does not start with them.
bool TakeNumbered(absl::string_view& v, absl::string_view prefix,
                  absl::string_view* number) {
  if (!absl::StartsWith(v, prefix)) return false;
  size_t n = prefix.size();
  while (n < v.size() && absl::ascii_isdigit(v[n])) ++n;
  if (n == prefix.size()) return false;
  *number = v.substr(prefix.size(), n - prefix.size());
  v.remove_prefix(n);
  return true;
}

bool ParsePep440(absl::string_view v, Pep440* out) {
  if (const size_t plus = v.find('+'); plus != absl::string_view::npos) {
    out->local = absl::StrSplit(v.substr(plus + 1), '.');
    for (absl::string_view seg : out->local) {
      if (seg.empty()) return false;
      for (char c : seg) {
        if (!absl::ascii_isdigit(c) && !absl::ascii_islower(c)) return false;
      }
    }
    v = v.substr(0, plus);
  }
  if (const size_t bang = v.find('!'); bang != absl::string_view::npos) {
    out->epoch = v.substr(0, bang);
    if (!AllDigits(out->epoch)) return false;
    v.remove_prefix(bang + 1);
  }
  absl::string_view number;
  if (!TakeNumbered(v, "", &number)) return false;
  out->release.push_back(number);
  while (TakeNumbered(v, ".", &number)) out->release.push_back(number);
  constexpr absl::string_view kPreKinds[] = {"a", "b", "rc"};
  for (int kind = 2; kind >= 0; --kind) {  // "rc" before a bare letter
    if (TakeNumbered(v, kPreKinds[kind], &out->pre_number)) {
      out->pre_kind = kind;
      break;
    }
  }
  TakeNumbered(v, ".post", &out->post);
  TakeNumbered(v, ".dev", &out->dev);
  return v.empty();
}

// The release with trailing zeros dropped: 1.0 == 1.0.0.
int CompareReleases(std::vector<absl::string_view> a,
                    std::vector<absl::string_view> b) {
  const auto trim = [](std::vector<absl::string_view>& r) {
    while (r.size() > 1 && CompareNumbers(r.back(), "0") == 0) r.pop_back();
  };
  trim(a);
  trim(b);
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (int c = CompareNumbers(a[i], b[i]); c != 0) return c;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

// An optional number where absence sorts before (`absent_first`) or after
// every present value.
int CompareOptional(absl::string_view a, absl::string_view b,
                    bool absent_first) {
  if (a.empty() || b.empty()) {
    if (a.empty() == b.empty()) return 0;
    return (a.empty() == absent_first) ? -1 : 1;
  }
  return CompareNumbers(a, b);
}

// PEP 440's pre-release slot: a dev release with neither pre nor post sorts
// before any pre-release of its release; a final release after all of them.
int PreRank(const Pep440& v) {
  if (v.pre_kind < 0 && v.post.empty() && !v.dev.empty()) return -1;
  if (v.pre_kind < 0) return 3;
  return v.pre_kind;
}

int CompareLocal(const Pep440& a, const Pep440& b) {
  if (a.local.empty() || b.local.empty()) {
    return a.local.empty() == b.local.empty() ? 0 : (a.local.empty() ? -1 : 1);
  }
  for (size_t i = 0; i < a.local.size() && i < b.local.size(); ++i) {
    const bool a_num = AllDigits(a.local[i]), b_num = AllDigits(b.local[i]);
    int c = 0;
    if (a_num && b_num) {
      c = CompareNumbers(a.local[i], b.local[i]);
    } else if (a_num != b_num) {
      c = a_num ? 1 : -1;  // numeric segments sort after letters
    } else {
      c = Sign(a.local[i].compare(b.local[i]));
    }
    if (c != 0) return c;
  }
  return a.local.size() == b.local.size()
             ? 0
             : (a.local.size() < b.local.size() ? -1 : 1);
}

int ComparePep440(const Pep440& a, const Pep440& b) {
  if (int c = CompareNumbers(a.epoch, b.epoch); c != 0) return c;
  if (int c = CompareReleases(a.release, b.release); c != 0) return c;
  if (int c = Sign(PreRank(a) - PreRank(b)); c != 0) return c;
  if (int c = CompareOptional(a.pre_number, b.pre_number, true); c != 0) {
    return c;
  }
  if (int c = CompareOptional(a.post, b.post, /*absent_first=*/true); c != 0) {
    return c;
  }
  if (int c = CompareOptional(a.dev, b.dev, /*absent_first=*/false); c != 0) {
    return c;
  }
  return CompareLocal(a, b);
}

std::optional<int> CompareSemVerStrings(absl::string_view a,
                                        absl::string_view b) {
  SemVer x, y;
  if (!ParseSemVer(a, &x) || !ParseSemVer(b, &y)) return std::nullopt;
  return CompareSemVer(x, y);
}

std::optional<int> ComparePep440Strings(absl::string_view a,
                                        absl::string_view b) {
  Pep440 x, y;
  if (!ParsePep440(a, &x) || !ParsePep440(b, &y)) return std::nullopt;
  return ComparePep440(x, y);
}

bool IsPypi(absl::string_view package_type) { return package_type == "pypi"; }

}  // namespace

std::optional<int> CompareVersions(absl::string_view package_type,
                                   absl::string_view a, absl::string_view b) {
  std::optional<int> own = IsPypi(package_type) ? ComparePep440Strings(a, b)
                                                : CompareSemVerStrings(a, b);
  if (own.has_value()) return own;
  return IsPypi(package_type) ? CompareSemVerStrings(a, b)
                              : ComparePep440Strings(a, b);
}

bool IsPreRelease(absl::string_view package_type, absl::string_view version) {
  SemVer semver;
  Pep440 pep440;
  const bool is_semver = ParseSemVer(version, &semver);
  const bool is_pep440 = ParsePep440(version, &pep440);
  if (is_pep440 && (IsPypi(package_type) || !is_semver)) {
    return pep440.pre_kind >= 0 || !pep440.dev.empty();
  }
  return is_semver && !semver.pre.empty();
}

bool SupersedesLatest(absl::string_view package_type,
                      absl::string_view candidate, absl::string_view current) {
  const bool candidate_pre = IsPreRelease(package_type, candidate);
  const bool current_pre = IsPreRelease(package_type, current);
  if (candidate_pre != current_pre) return current_pre;
  const std::optional<int> order =
      CompareVersions(package_type, candidate, current);
  return !order.has_value() || *order > 0;
}

}  // namespace mcpreg::storage

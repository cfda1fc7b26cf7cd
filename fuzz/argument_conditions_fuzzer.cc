// Argument conditions against hostile arguments: no input may crash policy
// evaluation, and a decision's reason may never depend on argument values
// (they can be secrets). The input is tried three ways:
//  - whole, as the JSON arguments of calls to a fixed allow-list and
//    deny-list policy holding every kind of condition;
//  - split at its first two newlines into a JSON Pointer, an RE2 pattern and
//    JSON arguments: a policy is compiled from the first two (it may be
//    refused, never crash) and checked with the third;
//  - its arguments canonicalized (RFC 8785), which must be idempotent.
// Both policies test several patterns on one pointer, which a policy matches
// with one RE2::Set: each decision must be the one its entries give one by
// one (policies of one entry, which share nothing), and the one given when
// every set fails to run.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "policy/tool_definition.h"
#include "policy/tool_policy.h"

namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::mcpreg::policy::ArgumentCondition;
using ::mcpreg::policy::CompiledPolicy;
using ::mcpreg::policy::Decision;
using ::mcpreg::policy::Entry;
using ::mcpreg::policy::Mode;
using Kind = ArgumentCondition::Kind;

ArgumentCondition Make(std::string pointer, Kind kind) {
  ArgumentCondition c;
  c.pointer = std::move(pointer);
  c.kind = kind;
  return c;
}

ArgumentCondition Matches(std::string pointer, std::string pattern) {
  ArgumentCondition c = Make(std::move(pointer), Kind::kMatches);
  c.pattern = std::move(pattern);
  return c;
}

ArgumentCondition Range(std::string pointer, double min, double max) {
  ArgumentCondition c = Make(std::move(pointer), Kind::kRange);
  c.min = min;
  c.max = max;
  return c;
}

ArgumentCondition OneOfScalars(std::string pointer) {
  ArgumentCondition c = Make(std::move(pointer), Kind::kOneOf);
  c.one_of.emplace_back().set_string_value("r");
  c.one_of.emplace_back().set_string_value("w");
  c.one_of.emplace_back().set_number_value(1);
  c.one_of.emplace_back().set_bool_value(true);
  c.one_of.emplace_back().set_null_value(google::protobuf::NULL_VALUE);
  return c;
}

std::vector<Entry> FixedEntries() {
  return {
      {"read_file",
       false,
       {Matches("/path", "/srv/data/[^/.][^/]*(/[^/.][^/]*)*"),
        Range("/limit", 0, 1000)}},
      {"read_file", false, {Matches("/path", "/srv/logs/[a-z0-9._-]+")}},
      {"read_.*",
       true,
       {Matches("/path", "(?s).*\\.csv"), OneOfScalars("/mode")}},
      {"read_.*", true, {Matches("/path", "/tmp/.*"), Range("/limit", 0, 10)}},
      {"exec", false, {Matches("/argv/0", "rm|mv"), Matches("/argv/1", "-.*")}},
      {"read_.*",
       true,
       {OneOfScalars("/mode"), Range("/opts/depth", -8, 8),
        Make("/a~1b~0c", Kind::kAbsent)}},
      {"exec",
       false,
       {Matches("/argv/0", "ls|cat"), Make("/env", Kind::kAbsent),
        Make("/argv/10", Kind::kAbsent), OneOfScalars("/argv/-")}},
      {"write_file", false, {Matches("", ".*"), OneOfScalars("/")}},
      {"read_file", false, {}},
  };
}

constexpr absl::string_view kTools[] = {"read_file", "read_x", "exec",
                                        "write_file", "other"};

// A reason is a function of (mode, tool's decision, entry, condition): any
// two calls that agree on those must give the same text, else some of it
// came from the arguments.
void CheckReasonIsValueFree(Mode mode, const Decision& d) {
  static auto* seen =
      new std::map<std::tuple<int, bool, int, int>, std::string>();
  if (d.reason.empty()) abort();
  const auto key = std::make_tuple(static_cast<int>(mode), d.allowed,
                                   d.entry_index, d.condition_index);
  auto [it, inserted] = seen->emplace(key, d.reason);
  if (!inserted && it->second != d.reason) abort();
}

bool SameDecision(const Decision& a, const Decision& b) {
  return a.allowed == b.allowed && a.entry_index == b.entry_index &&
         a.condition_index == b.condition_index && a.reason == b.reason;
}

// `singles[i]`: entry i alone, in `mode`; `none`: no entry. The first entry
// that matches decides; else the first whose name matched; else the mode.
Decision EntryByEntry(Mode mode,
                      const std::vector<const CompiledPolicy*>& singles,
                      const CompiledPolicy& none, absl::string_view tool,
                      const Struct* args) {
  const bool deny = mode == Mode::kDenyList;
  Decision near;
  for (size_t i = 0; i < singles.size(); ++i) {
    Decision d = singles[i]->Check(tool, args);
    if (d.entry_index != 0) continue;
    d.entry_index = static_cast<int>(i);
    if (d.allowed != deny) return d;
    if (near.entry_index < 0) near = d;
  }
  return near.entry_index >= 0 ? near : none.Check(tool, args);
}

// The policy's decision, checked against its entries one by one and against
// itself with its pattern sets failing.
Decision CheckAgainstReferences(
    Mode mode, const CompiledPolicy& policy,
    const std::vector<const CompiledPolicy*>& singles,
    const CompiledPolicy& none, absl::string_view tool, const Struct* args) {
  const Decision d = policy.Check(tool, args);
  if (!SameDecision(d, EntryByEntry(mode, singles, none, tool, args))) {
    abort();
  }
  CompiledPolicy::FailConditionSetsForTesting(true);
  const Decision alone = policy.Check(tool, args);
  CompiledPolicy::FailConditionSetsForTesting(false);
  if (!SameDecision(d, alone)) abort();
  return d;
}

// Entry by entry, for CheckAgainstReferences; null when one is refused.
std::vector<std::shared_ptr<const CompiledPolicy>> Singles(
    Mode mode, const std::vector<Entry>& entries) {
  std::vector<std::shared_ptr<const CompiledPolicy>> singles;
  for (const Entry& e : entries) {
    auto p = CompiledPolicy::Compile(mode, {e});
    if (!p.ok()) return {};
    singles.push_back(*p);
  }
  return singles;
}

std::vector<const CompiledPolicy*> Pointers(
    const std::vector<std::shared_ptr<const CompiledPolicy>>& policies) {
  std::vector<const CompiledPolicy*> out;
  for (const auto& p : policies) out.push_back(p.get());
  return out;
}

bool Parse(absl::string_view json, Struct* out) {
  return google::protobuf::util::JsonStringToMessage(
             std::string(json.data(), json.size()), out)
      .ok();
}

void CheckCanonicalIsIdempotent(const Struct& args) {
  Value v;
  *v.mutable_struct_value() = args;
  auto once = mcpreg::policy::CanonicalJson(v);
  if (!once.ok()) return;  // too deep, or not representable
  Struct reparsed;
  if (!Parse(*once, &reparsed)) abort();
  *v.mutable_struct_value() = reparsed;
  auto twice = mcpreg::policy::CanonicalJson(v);
  if (!twice.ok() || *twice != *once) abort();
  (void)mcpreg::policy::CanonicalDefinition(args, "tool");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* allow =
      new auto(*CompiledPolicy::Compile(Mode::kAllowList, FixedEntries()));
  static const auto* deny =
      new auto(*CompiledPolicy::Compile(Mode::kDenyList, FixedEntries()));
  static const auto* allow_singles =
      new auto(Singles(Mode::kAllowList, FixedEntries()));
  static const auto* deny_singles =
      new auto(Singles(Mode::kDenyList, FixedEntries()));
  static const auto* allow_none =
      new auto(*CompiledPolicy::Compile(Mode::kAllowList, {}));
  static const auto* deny_none =
      new auto(*CompiledPolicy::Compile(Mode::kDenyList, {}));
  const absl::string_view input(reinterpret_cast<const char*>(data), size);

  Struct args;
  if (Parse(input, &args)) {
    for (absl::string_view tool : kTools) {
      CheckReasonIsValueFree(Mode::kAllowList,
                             CheckAgainstReferences(Mode::kAllowList, **allow,
                                                    Pointers(*allow_singles),
                                                    **allow_none, tool, &args));
      CheckReasonIsValueFree(Mode::kDenyList,
                             CheckAgainstReferences(Mode::kDenyList, **deny,
                                                    Pointers(*deny_singles),
                                                    **deny_none, tool, &args));
    }
    CheckCanonicalIsIdempotent(args);
  }

  // pointer \n pattern \n arguments
  const size_t first = input.find('\n');
  if (first == absl::string_view::npos) return 0;
  const size_t second = input.find('\n', first + 1);
  const std::string pointer(input.substr(0, first));
  const std::string pattern(second == absl::string_view::npos
                                ? input.substr(first + 1)
                                : input.substr(first + 1, second - first - 1));
  const std::vector<Entry> entries = {
      {"t", false, {Matches(pointer, pattern)}},
      {"t", false, {OneOfScalars(pointer)}},
      {"u", false, {Range(pointer, 0, 1)}},
      {"u", false, {Make(pointer, Kind::kAbsent)}},
      {"t", false, {Matches(pointer, "x.*"), Range("/n", 0, 9)}},
      {"[tv]", true, {Matches(pointer, "(?s).*y"), Matches("/q", pattern)}},
      {"t", false, {Matches(pointer, pattern), Make("/n", Kind::kAbsent)}},
      {"t", false, {Matches(pointer, "[^z]*")}},
      {pattern, true, {}},
  };
  Struct split_args;
  const bool parsed = second != absl::string_view::npos &&
                      Parse(input.substr(second + 1), &split_args);
  for (Mode mode : {Mode::kAllowAll, Mode::kAllowList, Mode::kDenyList}) {
    auto policy = CompiledPolicy::Compile(mode, entries, "policy.");
    if (!policy.ok()) {
      if (policy.status().message().rfind("policy.entries", 0) != 0) abort();
      continue;
    }
    // Each entry alone compiles when the policy does; the plain check is
    // for safety only.
    const auto singles = Singles(mode, entries);
    auto none = CompiledPolicy::Compile(mode, {});
    for (absl::string_view tool : {"t", "u", "v"}) {
      const Struct* call_args = parsed ? &split_args : nullptr;
      const Decision d =
          singles.empty()
              ? (*policy)->Check(tool, call_args)
              : CheckAgainstReferences(mode, **policy, Pointers(singles),
                                       **none, tool, call_args);
      if (d.reason.empty()) abort();
      (void)(*policy)->MayList(tool);
    }
  }
  return 0;
}

#include "cli/guard/tool_definitions_session.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace mcpreg::cli {
namespace {

using nlohmann::json;

// Marks a status as the server's fault (see IsServerSideError).
constexpr char kServerSidePayload[] = "type.mcpreg.dev/guard.server-side";

absl::Status ServerSide(absl::Status status) {
  status.SetPayload(kServerSidePayload, absl::Cord("1"));
  return status;
}

// A string member of an object, or "" (for any other shape: never throws).
std::string StringMember(const json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

// --- ToolDefinitionsSession ----------------------------------------------

void ToolDefinitionsSession::MarkChanged() {
  absl::MutexLock lock(&mu_);
  ++generation_;
}

int64_t ToolDefinitionsSession::generation() {
  absl::MutexLock lock(&mu_);
  return generation_;
}

void ToolDefinitionsSession::Record(
    const std::vector<ToolGate::ListedTool>& tools, int64_t generation) {
  absl::MutexLock lock(&mu_);
  for (const ToolGate::ListedTool& t : tools) {
    if (t.name.empty()) continue;
    auto [it, added] = known_.try_emplace(t.name);
    // A page answered before a later listing must not undo what it learned.
    if (added || it->second.generation <= generation) {
      it->second = Known{t.digest, generation};
    }
  }
}

void ToolDefinitionsSession::Replace(
    const std::vector<ToolGate::ListedTool>& tools, int64_t generation) {
  // A tool the complete listing no longer has is gone; what was learned
  // after the listing began is newer, and kept.
  for (auto it = known_.begin(); it != known_.end();) {
    it = it->second.generation <= generation ? known_.erase(it) : std::next(it);
  }
  for (const ToolGate::ListedTool& t : tools) {
    if (t.name.empty()) continue;
    auto [it, added] = known_.try_emplace(t.name);
    if (added || it->second.generation <= generation) {
      it->second = Known{t.digest, generation};
    }
  }
  complete_ = std::max(complete_, generation);
}

absl::StatusOr<std::string> ToolDefinitionsSession::CurrentDigest(
    const std::string& tool, const ListAll& list_all) {
  absl::MutexLock lock(&mu_);
  // Current means: learned at or after the last change this call knows of.
  // Later changes do not move the goal, so a server announcing changes
  // without end cannot keep a call waiting: it waits for two listings at
  // most (one already running that began too early, then its own).
  const int64_t want = generation_;
  for (;;) {
    if (const auto it = known_.find(tool);
        it != known_.end() && it->second.generation >= want) {
      return it->second.digest;
    }
    if (complete_ >= want) return std::string();  // the server has no such tool
    if (listing_) {
      const uint64_t running = listings_started_;
      const bool serves_this_call = listing_generation_ >= want;
      const auto done = [this, running]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return listings_done_ >= running;
      };
      mu_.Await(absl::Condition(&done));
      if (serves_this_call && !last_listing_.ok()) return last_listing_;
      continue;
    }
    // This call lists for everyone. Not under the lock: it takes a while.
    listing_ = true;
    listing_generation_ = generation_;
    const int64_t listed_at = generation_;
    ++listings_started_;
    mu_.Unlock();
    absl::StatusOr<std::vector<ToolGate::ListedTool>> listed = list_all();
    mu_.Lock();
    listing_ = false;
    ++listings_done_;
    last_listing_ = listed.status();
    if (!listed.ok()) return listed.status();
    Replace(*listed, listed_at);
  }
}

// --- GuardRequests --------------------------------------------------------

bool GuardRequests::IsGuardId(const json& id) {
  return id.is_string() &&
         absl::StartsWith(id.get_ref<const std::string&>(), kIdPrefix);
}

absl::StatusOr<json> GuardRequests::Ask(const std::string& method, json params,
                                        absl::Time deadline) {
  std::string id;
  {
    absl::MutexLock lock(&mu_);
    if (gone_.has_value()) return absl::UnavailableError(*gone_);
    id = absl::StrCat(kIdPrefix, next_id_++);
    waiting_[id] = std::nullopt;
  }
  json request = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) request["params"] = std::move(params);
  if (!write_(request.dump())) {
    absl::MutexLock lock(&mu_);
    waiting_.erase(id);
    return absl::UnavailableError("the MCP server is gone");
  }
  absl::MutexLock lock(&mu_);
  const auto answered = [this, &id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return gone_.has_value() || waiting_[id].has_value();
  };
  mu_.AwaitWithDeadline(absl::Condition(&answered), deadline);
  std::optional<json> answer = std::move(waiting_[id]);
  waiting_.erase(id);  // an answer after this is dropped
  if (answer.has_value()) return *std::move(answer);
  if (gone_.has_value()) return absl::UnavailableError(*gone_);
  return absl::DeadlineExceededError(absl::StrCat(
      "the MCP server did not answer the guard's ", method, " in time"));
}

void GuardRequests::Answer(const std::string& id, json message) {
  absl::MutexLock lock(&mu_);
  const auto it = waiting_.find(id);
  if (it != waiting_.end()) it->second = std::move(message);
}

void GuardRequests::ServerGone(const std::string& why) {
  absl::MutexLock lock(&mu_);
  if (!gone_.has_value()) gone_ = why;
}

// --- Listing --------------------------------------------------------------

absl::StatusOr<std::vector<JudgedTool>> JudgeTools(ToolGate& gate,
                                                   const json& tools) {
  std::vector<JudgedTool> judged;
  std::vector<std::string> definitions;
  for (size_t i = 0; i < tools.size(); ++i) {
    // A tool without a name cannot be called: it is dropped, not asked
    // about.
    const std::string name = StringMember(tools[i], "name");
    if (name.empty()) continue;
    JudgedTool& j = judged.emplace_back();
    j.index = i;
    j.tool.name = name;
    definitions.push_back(tools[i].dump());
  }
  absl::StatusOr<std::vector<ToolGate::ListedTool>> listed =
      gate.Filter(definitions);
  if (!listed.ok()) return listed.status();
  if (listed->size() != judged.size()) {
    return absl::InternalError(absl::StrCat(
        "the registry judged ", listed->size(), " tools of ", judged.size()));
  }
  for (size_t k = 0; k < judged.size(); ++k) {
    // The name is the one the client sees, whatever the gate made of it.
    judged[k].tool.allowed = (*listed)[k].allowed;
    judged[k].tool.digest = std::move((*listed)[k].digest);
  }
  return judged;
}

absl::StatusOr<std::vector<ToolGate::ListedTool>> ListServerTools(
    GuardRequests& requests, ToolGate& gate, absl::Time deadline,
    int max_pages) {
  std::vector<ToolGate::ListedTool> all;
  std::string cursor;
  for (int page = 0; page < max_pages; ++page) {
    absl::StatusOr<json> answer = requests.Ask(
        "tools/list", cursor.empty() ? json() : json{{"cursor", cursor}},
        deadline);
    if (!answer.ok()) return ServerSide(answer.status());
    const auto result = answer->find("result");
    if (result == answer->end() || !result->is_object() ||
        !result->contains("tools") || !(*result)["tools"].is_array()) {
      const auto error = answer->find("error");
      return ServerSide(absl::UnavailableError(
          error != answer->end()
              ? absl::StrCat("the MCP server refused the guard's tools/list: ",
                             StringMember(*error, "message"))
              : "the MCP server answered the guard's tools/list without "
                "tools"));
    }
    absl::StatusOr<std::vector<JudgedTool>> judged =
        JudgeTools(gate, (*result)["tools"]);
    if (!judged.ok()) return judged.status();
    for (JudgedTool& j : *judged) all.push_back(std::move(j.tool));
    cursor = StringMember(*result, "nextCursor");
    if (cursor.empty()) return all;
  }
  return ServerSide(absl::ResourceExhaustedError(absl::StrCat(
      "the MCP server listed its tools in more than ", max_pages, " pages")));
}

bool IsServerSideError(const absl::Status& status) {
  return status.GetPayload(kServerSidePayload).has_value();
}

}  // namespace mcpreg::cli

// A fixture for handler unit tests: RegistryDependencies over the in-memory
// stores of fake_stores.h, the real built-in authorizer, the real policy
// cache and real repository storage in a temporary folder, with callers
// (tokens and grants) and calls made to measure. No database, no host.
#ifndef MCPREG_TESTS_SUPPORT_HANDLER_HARNESS_H_
#define MCPREG_TESTS_SUPPORT_HANDLER_HARNESS_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "plugin/sdk/call_context.h"
#include "plugin/sdk/plugin_instance.h"
#include "plugin/src/registry_dependencies.h"
#include "tests/support/fake_stores.h"

namespace mcpreg::testing {

class HandlerTest : public ::testing::Test {
 protected:
  // Repositories: ai-pypi-local (pypi) and ai-npm-local (npm), local and in
  // project ai-research; other-npm-local (npm, project "other");
  // remote-npm (a remote repository) and docker-local (docker).
  HandlerTest();
  ~HandlerTest() override;

  // A new token for `principal`, holding nothing until Grant.
  std::string TokenFor(const std::string& principal);
  void Grant(const std::string& principal, const std::string& permission,
             const std::string& resource);
  void WriteArtifact(const std::string& repo, const std::string& path,
                     const std::string& bytes);

  // A call carrying `token` (none when empty) and, when set, the
  // jfrog-project-key header.
  std::unique_ptr<sdk::CallContext> Call(const std::string& token,
                                         const std::string& project = "");

  // An asynchronous handler's answer, which the fakes give before the
  // handler returns.
  template <typename Response, typename Handler, typename Request>
  absl::StatusOr<Response> Await(Handler handler, const sdk::CallContext& ctx,
                                 const Request& request) {
    absl::StatusOr<Response> answer = absl::UnknownError("no answer");
    handler(deps_, ctx, request,
            sdk::Reply<Response>(sdk::RawReply::Calling(
                [&answer](const absl::StatusOr<std::string>& bytes) {
                  if (!bytes.ok()) {
                    answer = bytes.status();
                    return;
                  }
                  Response parsed;
                  if (!parsed.ParseFromString(*bytes)) {
                    answer = absl::InternalError("unparsable answer");
                    return;
                  }
                  answer = std::move(parsed);
                },
                "test")));
    return answer;
  }

  // The audit rows with this action, in order.
  std::vector<storage::AuditEvent> Audited(const std::string& action) const;

  const std::string& storage_root() const { return root_; }

  // Owned by deps_; every audit row lands here, the stores' included.
  FakeAuditLog* audit_;
  FakeServerStore* servers_;
  FakePolicyStore* policies_;
  FakeAccessStore* access_;
  RegistryDependencies deps_{nullptr};

 private:
  std::string root_;
};

}  // namespace mcpreg::testing

#endif  // MCPREG_TESTS_SUPPORT_HANDLER_HARNESS_H_

// The SDK's dispatch, driven through sdk::PluginInstance's ABI entry points
// with handlers of the test's own: inline methods complete on the caller's
// thread before `call` returns; worker methods queue up to the bound and are
// refused past it; shutdown waits for both kinds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "empty_service.h"
#include "google/protobuf/empty.pb.h"
#include "sdk/plugin_instance.h"

namespace mcpreg::sdk {
namespace {

using google::protobuf::Empty;
using Handler =
    std::function<absl::StatusOr<Empty>(const CallContext&, const Empty&)>;

const google::protobuf::ServiceDescriptor* TestService() {
  static const auto* service = mcpreg::testing::BuildEmptyService(
      "sdktest.v1", "Dispatch", {"Inline", "Worker", "InlineThrows"});
  return service;
}

class TestInstance : public PluginInstance {
 public:
  TestInstance(size_t workers, size_t queued)
      : PluginInstance(&host_, InstanceOptions{workers, queued}) {}
  ~TestInstance() override { Shutdown(); }

 private:
  static inline const mcpreg_host_api host_ = [] {
    mcpreg_host_api h{};
    h.struct_size = sizeof(h);
    h.abi_major = MCPREG_ABI_MAJOR;
    h.abi_minor = MCPREG_ABI_MINOR;
    return h;
  }();
};

struct Completion {
  absl::Notification done;
  std::atomic<int> times{0};
  int32_t code = -1;
  std::thread::id thread;
};

void OnComplete(void* ctx, const mcpreg_call_result* result) {
  auto* c = static_cast<Completion*>(ctx);
  c->code = result->status_code;
  c->thread = std::this_thread::get_id();
  if (c->times.fetch_add(1) == 0) c->done.Notify();
}

int32_t StartCall(PluginInstance& instance, const std::string& method,
                  Completion* completion) {
  mcpreg_call_info info{};
  info.struct_size = sizeof(info);
  info.method = {method.data(), method.size()};
  return instance.Call(info, {nullptr, 0}, &OnComplete, completion);
}

const google::protobuf::MethodDescriptor* Method(const char* name) {
  return TestService()->FindMethodByName(name);
}

TEST(PluginSdkTest, InlineMethodCompletesOnTheCallersThreadBeforeReturning) {
  TestInstance instance(1, 1);
  std::thread::id handler_thread;
  instance.AddMethod<Empty, Empty>(
      Method("Inline"),
      Handler([&](const CallContext&, const Empty&) -> absl::StatusOr<Empty> {
        handler_thread = std::this_thread::get_id();
        return Empty();
      }),
      Dispatch::kInline);
  Completion c;
  ASSERT_EQ(StartCall(instance, "/sdktest.v1.Dispatch/Inline", &c),
            MCPREG_STATUS_OK);
  // No waiting: the completion has already happened.
  EXPECT_TRUE(c.done.HasBeenNotified());
  EXPECT_EQ(c.code, MCPREG_STATUS_OK);
  EXPECT_EQ(c.times.load(), 1);
  EXPECT_EQ(handler_thread, std::this_thread::get_id());
  EXPECT_EQ(c.thread, std::this_thread::get_id());
}

TEST(PluginSdkTest, InlineHandlerThatThrowsCompletesInternal) {
  TestInstance instance(1, 1);
  instance.AddMethod<Empty, Empty>(
      Method("InlineThrows"),
      Handler([](const CallContext&, const Empty&) -> absl::StatusOr<Empty> {
        throw std::runtime_error("inline handler blew up");
      }),
      Dispatch::kInline);
  Completion c;
  ASSERT_EQ(StartCall(instance, "/sdktest.v1.Dispatch/InlineThrows", &c),
            MCPREG_STATUS_OK);
  EXPECT_EQ(c.code, MCPREG_STATUS_INTERNAL);
  EXPECT_EQ(c.times.load(), 1);
}

TEST(PluginSdkTest, WorkerMethodPastTheQueueBoundIsRefusedUpFront) {
  auto instance = std::make_unique<TestInstance>(1, 1);
  absl::Notification release;
  instance->AddMethod<Empty, Empty>(
      Method("Worker"),
      Handler([&](const CallContext&, const Empty&) -> absl::StatusOr<Empty> {
        release.WaitForNotification();
        return Empty();
      }));
  // One runs (blocked), one waits in the queue; everything after is refused
  // while they hold their places.
  constexpr int kCalls = 20;
  std::vector<Completion> completions(kCalls);
  int accepted = 0;
  int refused = 0;
  for (int i = 0; i < kCalls; ++i) {
    const int32_t code =
        StartCall(*instance, "/sdktest.v1.Dispatch/Worker", &completions[i]);
    if (code == MCPREG_STATUS_OK) ++accepted;
    if (code == MCPREG_STATUS_RESOURCE_EXHAUSTED) ++refused;
  }
  EXPECT_LE(accepted, 2);
  EXPECT_EQ(accepted + refused, kCalls);
  release.Notify();
  instance.reset();  // completes every accepted call
  int completed = 0;
  for (int i = 0; i < kCalls; ++i) {
    completed += completions[i].times.load();
    if (completions[i].times.load() > 0) {
      EXPECT_NE(completions[i].thread, std::this_thread::get_id());
    }
  }
  EXPECT_EQ(completed, accepted);
}

TEST(PluginSdkTest, ShutdownWaitsForARunningInlineCall) {
  auto instance = std::make_unique<TestInstance>(1, 1);
  absl::Notification entered;
  absl::Notification release;
  instance->AddMethod<Empty, Empty>(
      Method("Inline"),
      Handler([&](const CallContext&, const Empty&) -> absl::StatusOr<Empty> {
        entered.Notify();
        release.WaitForNotification();
        return Empty();
      }),
      Dispatch::kInline);
  Completion c;
  std::thread caller([&] {
    EXPECT_EQ(StartCall(*instance, "/sdktest.v1.Dispatch/Inline", &c),
              MCPREG_STATUS_OK);
  });
  entered.WaitForNotification();
  std::atomic<bool> destroyed{false};
  std::thread destroyer([&] {
    instance.reset();
    destroyed = true;
  });
  // Destruction cannot finish while the handler runs on the caller's thread.
  EXPECT_FALSE(c.done.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  EXPECT_FALSE(destroyed.load());
  release.Notify();
  caller.join();
  destroyer.join();
  EXPECT_TRUE(destroyed.load());
  EXPECT_EQ(c.times.load(), 1);
}

TEST(PluginSdkTest, InlineCallAfterShutdownBeganIsUnavailable) {
  // The instance's own Shutdown runs in its destructor; a derived class that
  // shuts down early (as RegistryInstance does) refuses new calls after it.
  class EarlyShutdown : public TestInstance {
   public:
    EarlyShutdown() : TestInstance(1, 1) {}
    void StopNow() { Shutdown(); }
  };
  EarlyShutdown instance;
  instance.AddMethod<Empty, Empty>(
      Method("Inline"),
      Handler([](const CallContext&, const Empty&) -> absl::StatusOr<Empty> {
        return Empty();
      }),
      Dispatch::kInline);
  instance.StopNow();
  Completion c;
  EXPECT_EQ(StartCall(instance, "/sdktest.v1.Dispatch/Inline", &c),
            MCPREG_STATUS_UNAVAILABLE);
  EXPECT_EQ(c.times.load(), 0);
}

}  // namespace
}  // namespace mcpreg::sdk

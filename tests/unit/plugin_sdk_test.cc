// The SDK's dispatch, driven through sdk::PluginInstance's ABI entry points
// with handlers of the test's own: inline methods complete on the caller's
// thread before `call` returns; worker methods queue up to the bound and are
// refused past it; asynchronous methods complete exactly once, from whichever
// thread answers (or INTERNAL if nobody does); shutdown waits for all kinds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "google/protobuf/empty.pb.h"
#include "plugin/sdk/plugin_instance.h"
#include "tests/support/empty_service.h"

namespace mcpreg::sdk {
namespace {

using google::protobuf::Empty;
using Handler =
    std::function<absl::StatusOr<Empty>(const CallContext&, const Empty&)>;
using AsyncHandler =
    std::function<void(const CallContext&, const Empty&, Reply<Empty>)>;

const google::protobuf::ServiceDescriptor* TestService() {
  static const auto* service = mcpreg::testing::BuildEmptyService(
      "sdktest.v1", "Dispatch",
      {"Inline", "Worker", "InlineThrows", "Async", "Fast"});
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
                  Completion* completion, const std::string& request = "") {
  mcpreg_call_info info{};
  info.struct_size = sizeof(info);
  info.method = {method.data(), method.size()};
  return instance.Call(
      info, {reinterpret_cast<const uint8_t*>(request.data()), request.size()},
      &OnComplete, completion);
}

const google::protobuf::MethodDescriptor* Method(const char* name) {
  return TestService()->FindMethodByName(name);
}

// Destroys an instance on another thread, which blocks while calls are open.
class BackgroundDestroy {
 public:
  explicit BackgroundDestroy(std::unique_ptr<TestInstance>& instance)
      : thread_([this, &instance] {
          instance.reset();
          destroyed_ = true;
        }) {}
  ~BackgroundDestroy() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  bool destroyed() const { return destroyed_.load(); }

 private:
  std::atomic<bool> destroyed_{false};
  std::thread thread_;
};

// Destroys `instance` while `c`'s call is open, held by `reply`: destruction
// cannot finish until the reply answers, which then completes the call once.
void ExpectDestructionWaitsFor(std::unique_ptr<TestInstance>& instance,
                               Reply<Empty> reply, Completion& c) {
  BackgroundDestroy destroy(instance);
  EXPECT_FALSE(c.done.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  EXPECT_FALSE(destroy.destroyed());
  reply(Empty());
  destroy.Join();
  EXPECT_TRUE(destroy.destroyed());
  EXPECT_EQ(c.code, MCPREG_STATUS_OK);
  EXPECT_EQ(c.times.load(), 1);
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
  BackgroundDestroy destroy(instance);
  // Destruction cannot finish while the handler runs on the caller's thread.
  EXPECT_FALSE(c.done.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  EXPECT_FALSE(destroy.destroyed());
  release.Notify();
  caller.join();
  destroy.Join();
  EXPECT_TRUE(destroy.destroyed());
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

// An asynchronous method's handler that keeps its reply for the test to
// answer (or drop) later, from the test's thread.
class AsyncFixture {
 public:
  explicit AsyncFixture(PluginInstance& instance) {
    instance.AddAsyncMethod<Empty, Empty>(
        Method("Async"), AsyncHandler([this](const CallContext&, const Empty&,
                                             Reply<Empty> reply) {
          absl::MutexLock lock(&mu_);
          ++runs_;
          kept_.push_back(std::move(reply));
          if (throw_after_keeping_) throw std::runtime_error("after keeping");
        }));
  }
  int runs() {
    absl::MutexLock lock(&mu_);
    return runs_;
  }
  // Waits until the handler has kept a reply, and takes it.
  Reply<Empty> TakeKept() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &AsyncFixture::HasKept));
    Reply<Empty> r = std::move(kept_.back());
    kept_.pop_back();
    return r;
  }
  void ThrowAfterKeeping() {
    absl::MutexLock lock(&mu_);
    throw_after_keeping_ = true;
  }

 private:
  bool HasKept() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !kept_.empty();
  }

  absl::Mutex mu_;
  std::vector<Reply<Empty>> kept_ ABSL_GUARDED_BY(mu_);
  bool throw_after_keeping_ ABSL_GUARDED_BY(mu_) = false;
  int runs_ ABSL_GUARDED_BY(mu_) = 0;
};

constexpr char kAsync[] = "/sdktest.v1.Dispatch/Async";

TEST(PluginSdkTest, AsyncMethodCompletesWhenAnsweredFromAnotherThread) {
  TestInstance instance(1, 4);
  AsyncFixture fixture(instance);
  Completion c;
  ASSERT_EQ(StartCall(instance, kAsync, &c), MCPREG_STATUS_OK);
  Reply<Empty> reply = fixture.TakeKept();
  // The handler has kept its reply; the call is still open.
  EXPECT_FALSE(c.done.HasBeenNotified());
  std::thread::id answering;
  std::thread answerer([&] {
    answering = std::this_thread::get_id();
    reply(Empty());
    reply(absl::InternalError("a second answer is ignored"));
  });
  answerer.join();
  c.done.WaitForNotification();
  EXPECT_EQ(c.code, MCPREG_STATUS_OK);
  EXPECT_EQ(c.times.load(), 1);
  EXPECT_EQ(c.thread, answering);
}

TEST(PluginSdkTest, AsyncCallWhoseReplyIsDroppedUnansweredCompletesInternal) {
  TestInstance instance(1, 4);
  AsyncFixture fixture(instance);
  Completion c;
  ASSERT_EQ(StartCall(instance, kAsync, &c), MCPREG_STATUS_OK);
  fixture.TakeKept();  // the last copy goes away unanswered
  c.done.WaitForNotification();
  EXPECT_EQ(c.code, MCPREG_STATUS_INTERNAL);
  EXPECT_EQ(c.times.load(), 1);
}

TEST(PluginSdkTest, AsyncHandlerThatThrowsCompletesInternalOnce) {
  TestInstance instance(1, 4);
  AsyncFixture fixture(instance);
  fixture.ThrowAfterKeeping();
  Completion c;
  ASSERT_EQ(StartCall(instance, kAsync, &c), MCPREG_STATUS_OK);
  c.done.WaitForNotification();
  EXPECT_EQ(c.code, MCPREG_STATUS_INTERNAL);
  // The reply it handed on before throwing answers too late to count.
  fixture.TakeKept()(Empty());
  EXPECT_EQ(c.times.load(), 1);
}

TEST(PluginSdkTest, AsyncRequestThatDoesNotParseIsInvalidArgument) {
  TestInstance instance(1, 4);
  AsyncFixture fixture(instance);
  Completion c;
  // A length-delimited field whose length runs far past the end.
  const std::string garbage = "\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f";
  ASSERT_EQ(StartCall(instance, kAsync, &c, garbage), MCPREG_STATUS_OK);
  c.done.WaitForNotification();
  EXPECT_EQ(c.code, MCPREG_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(c.times.load(), 1);
  EXPECT_EQ(fixture.runs(), 0);
}

TEST(PluginSdkTest, AsyncCallCancelledWhileQueuedCompletesCancelled) {
  TestInstance instance(1, 4);
  AsyncFixture fixture(instance);
  absl::Notification entered, release;
  instance.AddMethod<Empty, Empty>(
      Method("Worker"),
      Handler([&](const CallContext&, const Empty&) -> absl::StatusOr<Empty> {
        entered.Notify();
        release.WaitForNotification();
        return Empty();
      }));
  Completion busy, queued;
  ASSERT_EQ(StartCall(instance, "/sdktest.v1.Dispatch/Worker", &busy),
            MCPREG_STATUS_OK);
  entered.WaitForNotification();  // the only worker is taken
  ASSERT_EQ(StartCall(instance, kAsync, &queued), MCPREG_STATUS_OK);
  instance.Cancel(&queued);  // the host gives up on it while it waits
  release.Notify();
  queued.done.WaitForNotification();
  EXPECT_EQ(queued.code, MCPREG_STATUS_CANCELLED);
  EXPECT_EQ(queued.times.load(), 1);
  EXPECT_EQ(fixture.runs(), 0);
  busy.done.WaitForNotification();
}

// A running handler's cancel hook is how it learns, while blocked, that
// the host gave up on its call: the hook runs on the host's thread, inside
// Cancel, and not after the handler has cleared it.
TEST(PluginSdkTest, TheHostsCancelRunsARunningHandlersCancelHook) {
  TestInstance instance(1, 1);
  absl::Notification hooked, unblocked;
  std::thread::id hook_thread;
  std::atomic<int> hook_runs{0};
  instance.AddMethod<Empty, Empty>(
      Method("Worker"), Handler([&](const CallContext& ctx,
                                    const Empty&) -> absl::StatusOr<Empty> {
        ctx.SetCancelHook([&] {
          hook_thread = std::this_thread::get_id();
          ++hook_runs;
          unblocked.Notify();
        });
        hooked.Notify();
        unblocked.WaitForNotification();  // "blocked in I/O"
        ctx.ClearCancelHook();
        return absl::CancelledError("interrupted");
      }));
  Completion c;
  ASSERT_EQ(StartCall(instance, "/sdktest.v1.Dispatch/Worker", &c),
            MCPREG_STATUS_OK);
  hooked.WaitForNotification();
  instance.Cancel(&c);
  EXPECT_EQ(hook_thread, std::this_thread::get_id());
  c.done.WaitForNotification();
  EXPECT_EQ(c.code, MCPREG_STATUS_CANCELLED);
  instance.Cancel(&c);  // completed: no hook to run any more
  EXPECT_EQ(hook_runs.load(), 1);
}

// A hook set after the call was cancelled runs at once, on the setter's
// thread: the handler cannot miss a cancel that came first.
TEST(PluginSdkTest, ACancelHookSetAfterTheCancelRunsAtOnce) {
  mcpreg_call_info info{};
  info.struct_size = sizeof(info);
  CallContext ctx(info);
  ctx.Cancel();
  int runs = 0;
  ctx.SetCancelHook([&] { ++runs; });
  EXPECT_EQ(runs, 1);
  ctx.ClearCancelHook();
  ctx.Cancel();
  EXPECT_EQ(runs, 1);
}

TEST(PluginSdkTest, ShutdownWaitsForAnUnansweredAsyncCall) {
  auto instance = std::make_unique<TestInstance>(1, 4);
  AsyncFixture fixture(*instance);
  Completion c;
  ASSERT_EQ(StartCall(*instance, kAsync, &c), MCPREG_STATUS_OK);
  ExpectDestructionWaitsFor(instance, fixture.TakeKept(), c);
}

// An asynchronous method with a fast path. The fast path declines or takes
// the call as the test says; whichever takes it keeps the reply.
class FastPathFixture {
 public:
  enum class Fast { kDecline, kTake, kThrow, kAnswerNow };

  FastPathFixture(PluginInstance& instance, Fast fast) : fast_(fast) {
    instance.AddAsyncMethod<Empty, Empty>(
        Method("Fast"),
        [this](const CallContext&, const Empty&, Reply<Empty> reply) {
          Keep(std::move(reply), worker_thread_);
        },
        [this](const CallContext&, const Empty&, const Reply<Empty>& reply) {
          {
            absl::MutexLock lock(&mu_);
            fast_thread_ = std::this_thread::get_id();  // it ran, whatever next
          }
          if (fast_ == Fast::kThrow) throw std::runtime_error("fast path");
          if (fast_ == Fast::kDecline) return false;
          if (fast_ == Fast::kAnswerNow) {
            reply(absl::UnavailableError("answered inside call"));
            return true;
          }
          Keep(reply, fast_thread_);
          return true;
        });
  }
  Reply<Empty> TakeKept() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](std::vector<Reply<Empty>>* kept) { return !kept->empty(); },
        &kept_));
    Reply<Empty> r = std::move(kept_.back());
    kept_.pop_back();
    return r;
  }
  std::thread::id fast_thread() {
    absl::MutexLock lock(&mu_);
    return fast_thread_;
  }
  std::thread::id worker_thread() {
    absl::MutexLock lock(&mu_);
    return worker_thread_;
  }

 private:
  void Keep(Reply<Empty> reply, std::thread::id& ran_on) {
    absl::MutexLock lock(&mu_);
    ran_on = std::this_thread::get_id();
    kept_.push_back(std::move(reply));
  }

  const Fast fast_;
  absl::Mutex mu_;
  std::vector<Reply<Empty>> kept_ ABSL_GUARDED_BY(mu_);
  std::thread::id fast_thread_ ABSL_GUARDED_BY(mu_);
  std::thread::id worker_thread_ ABSL_GUARDED_BY(mu_);
};

constexpr char kFast[] = "/sdktest.v1.Dispatch/Fast";

TEST(PluginSdkTest, FastPathThatTakesTheCallRunsOnTheCallersThreadOnly) {
  TestInstance instance(1, 4);
  FastPathFixture fixture(instance, FastPathFixture::Fast::kTake);
  Completion c;
  ASSERT_EQ(StartCall(instance, kFast, &c), MCPREG_STATUS_OK);
  // Taken inside `call`, on this thread, and still open: no worker ran.
  EXPECT_EQ(fixture.fast_thread(), std::this_thread::get_id());
  Reply<Empty> reply = fixture.TakeKept();
  EXPECT_FALSE(c.done.HasBeenNotified());
  reply(Empty());
  c.done.WaitForNotification();
  EXPECT_EQ(c.code, MCPREG_STATUS_OK);
  EXPECT_EQ(c.times.load(), 1);
  EXPECT_EQ(fixture.worker_thread(), std::thread::id());
}

TEST(PluginSdkTest, FastPathThatDeclinesHandsTheCallToAWorker) {
  TestInstance instance(1, 4);
  FastPathFixture fixture(instance, FastPathFixture::Fast::kDecline);
  Completion c;
  ASSERT_EQ(StartCall(instance, kFast, &c), MCPREG_STATUS_OK);
  Reply<Empty> reply = fixture.TakeKept();
  EXPECT_EQ(fixture.fast_thread(), std::this_thread::get_id());  // tried first
  EXPECT_NE(fixture.worker_thread(), std::thread::id());
  EXPECT_NE(fixture.worker_thread(), std::this_thread::get_id());
  // Declining did not answer the call.
  EXPECT_FALSE(c.done.HasBeenNotified());
  reply(absl::NotFoundError("answered by the worker's handler"));
  c.done.WaitForNotification();
  EXPECT_EQ(c.code, MCPREG_STATUS_NOT_FOUND);
  EXPECT_EQ(c.times.load(), 1);
}

// As when the audit writer refuses a row at once: the fast path answers
// before `call` returns, exactly once, and no worker runs.
TEST(PluginSdkTest, FastPathMayAnswerInsideTheCall) {
  TestInstance instance(1, 4);
  FastPathFixture fixture(instance, FastPathFixture::Fast::kAnswerNow);
  Completion c;
  ASSERT_EQ(StartCall(instance, kFast, &c), MCPREG_STATUS_OK);
  EXPECT_TRUE(c.done.HasBeenNotified());
  EXPECT_EQ(c.code, MCPREG_STATUS_UNAVAILABLE);
  EXPECT_EQ(c.thread, std::this_thread::get_id());
  EXPECT_EQ(c.times.load(), 1);
  EXPECT_EQ(fixture.worker_thread(), std::thread::id());
}

TEST(PluginSdkTest, FastPathThatThrowsCompletesInternalOnce) {
  TestInstance instance(1, 4);
  FastPathFixture fixture(instance, FastPathFixture::Fast::kThrow);
  Completion c;
  ASSERT_EQ(StartCall(instance, kFast, &c), MCPREG_STATUS_OK);
  c.done.WaitForNotification();
  EXPECT_EQ(c.code, MCPREG_STATUS_INTERNAL);
  EXPECT_EQ(c.times.load(), 1);
  EXPECT_EQ(fixture.worker_thread(), std::thread::id());
}

TEST(PluginSdkTest, FastPathDeclinedPastTheQueueBoundCompletesExhausted) {
  TestInstance instance(1, 1);
  FastPathFixture fixture(instance, FastPathFixture::Fast::kDecline);
  absl::Notification entered, release;
  instance.AddMethod<Empty, Empty>(
      Method("Worker"),
      Handler([&](const CallContext&, const Empty&) -> absl::StatusOr<Empty> {
        if (!entered.HasBeenNotified()) entered.Notify();  // one worker
        release.WaitForNotification();
        return Empty();
      }));
  Completion busy, waiting, refused;
  ASSERT_EQ(StartCall(instance, "/sdktest.v1.Dispatch/Worker", &busy),
            MCPREG_STATUS_OK);
  entered.WaitForNotification();  // the only worker is taken
  ASSERT_EQ(StartCall(instance, "/sdktest.v1.Dispatch/Worker", &waiting),
            MCPREG_STATUS_OK);  // and the one queue slot
  // The fast path started the call, so it is answered, not refused by
  // `call`'s return code: exactly one completion either way.
  ASSERT_EQ(StartCall(instance, kFast, &refused), MCPREG_STATUS_OK);
  refused.done.WaitForNotification();
  EXPECT_EQ(refused.code, MCPREG_STATUS_RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.times.load(), 1);
  release.Notify();
  busy.done.WaitForNotification();
  waiting.done.WaitForNotification();
}

TEST(PluginSdkTest, ShutdownWaitsForACallTheFastPathKept) {
  auto instance = std::make_unique<TestInstance>(1, 4);
  FastPathFixture fixture(*instance, FastPathFixture::Fast::kTake);
  Completion c;
  ASSERT_EQ(StartCall(*instance, kFast, &c), MCPREG_STATUS_OK);
  ExpectDestructionWaitsFor(instance, fixture.TakeKept(), c);
}

}  // namespace
}  // namespace mcpreg::sdk

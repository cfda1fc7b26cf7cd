// Drives the real libmcpreg.so through nothing but plugin_abi.h, as a host in
// another language would: ownership of every buffer, asynchronous completion,
// describe's descriptors, and destroy completing what is still in flight.
// This binary links no mcpreg proto: responses are decoded from the
// descriptors the plugin itself describes.
#include "mcpreg/plugin_abi.h"

#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"

namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

constexpr char kGetPluginInfo[] = "/mcpreg.v1.McpRegistry/GetPluginInfo";
constexpr char kHealthCheck[] = "/grpc.health.v1.Health/Check";

struct LogSink {
  std::mutex mu;
  std::vector<std::string> lines;
};

void CaptureLog(void* ctx, int32_t, mcpreg_str message) {
  auto* sink = static_cast<LogSink*>(ctx);
  std::lock_guard<std::mutex> lock(sink->mu);
  sink->lines.emplace_back(message.data, message.size);
}

// What a completion delivered, copied out while the buffers were valid.
struct Completion {
  absl::Notification done;
  int32_t code = -1;
  std::string message;
  std::string response;
  std::atomic<int> times{0};
};

void OnComplete(void* ctx, const mcpreg_call_result* result) {
  auto* c = static_cast<Completion*>(ctx);
  c->code = result->status_code;
  c->message.assign(result->status_message.data, result->status_message.size);
  c->response.assign(reinterpret_cast<const char*>(result->response.data),
                     result->response.size);
  // Scribble nothing: the buffers are the plugin's. Copying is the contract.
  if (c->times.fetch_add(1) == 0) c->done.Notify();
}

class PluginAbiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    handle_ = dlopen(MCPREG_TEST_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << dlerror();
    auto entry = reinterpret_cast<mcpreg_plugin_entry_fn>(
        dlsym(handle_, MCPREG_PLUGIN_ENTRY_SYMBOL));
    ASSERT_NE(entry, nullptr);
    descriptor_ = entry();
    api_ = descriptor_->api;
    host_.struct_size = sizeof(host_);
    host_.abi_major = MCPREG_ABI_MAJOR;
    host_.abi_minor = MCPREG_ABI_MINOR;
    host_.host_ctx_host_ptr = &log_;
    host_.log = &CaptureLog;
  }

  mcpreg_instance* CreateOrDie(const std::string& config) {
    mcpreg_instance* instance = nullptr;
    char* error = nullptr;
    const int32_t code =
        api_->create(&host_, {config.data(), config.size()}, &instance, &error);
    EXPECT_EQ(code, MCPREG_STATUS_OK) << (error ? error : "");
    api_->free_string(error);
    return instance;
  }

  int32_t StartCall(mcpreg_instance* instance, const std::string& method,
                    const std::string& request, Completion* completion) {
    mcpreg_call_info info{};
    info.struct_size = sizeof(info);
    info.method = {method.data(), method.size()};
    const std::string peer = "ipv4:127.0.0.1:1";
    info.peer = {peer.data(), peer.size()};
    return api_->call(
        instance, &info,
        {reinterpret_cast<const uint8_t*>(request.data()), request.size()},
        &OnComplete, completion);
  }

  void* handle_ = nullptr;
  const mcpreg_plugin_descriptor* descriptor_ = nullptr;
  const mcpreg_plugin_api* api_ = nullptr;
  mcpreg_host_api host_{};
  LogSink log_;
};

TEST_F(PluginAbiTest, EntryIsStableAndDescribesItself) {
  auto entry = reinterpret_cast<mcpreg_plugin_entry_fn>(
      dlsym(handle_, MCPREG_PLUGIN_ENTRY_SYMBOL));
  EXPECT_EQ(entry(), descriptor_);  // static storage, same every time
  EXPECT_EQ(descriptor_->struct_size, sizeof(mcpreg_plugin_descriptor));
  EXPECT_EQ(descriptor_->abi_major, MCPREG_ABI_MAJOR);
  EXPECT_EQ(descriptor_->abi_minor, MCPREG_ABI_MINOR);
  EXPECT_STREQ(descriptor_->plugin_name, "mcpreg");
  EXPECT_EQ(api_->struct_size, sizeof(mcpreg_plugin_api));
}

TEST_F(PluginAbiTest, BadConfigIsRefusedWithAPluginOwnedMessage) {
  mcpreg_instance* instance = reinterpret_cast<mcpreg_instance*>(0x1);
  char* error = nullptr;
  const std::string config = R"({"workerThreads": 2, "bogusKey": 1})";
  const int32_t code =
      api_->create(&host_, {config.data(), config.size()}, &instance, &error);
  EXPECT_EQ(code, MCPREG_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(instance, nullptr);
  ASSERT_NE(error, nullptr);
  EXPECT_THAT(std::string(error), HasSubstr("plugin config"));
  EXPECT_THAT(std::string(error), HasSubstr("bogusKey"));
  api_->free_string(error);    // the plugin's allocator frees its string
  api_->free_string(nullptr);  // and NULL is a no-op
}

TEST_F(PluginAbiTest, MalformedJsonConfigIsRefused) {
  mcpreg_instance* instance = nullptr;
  char* error = nullptr;
  const std::string config = "{not json";
  EXPECT_EQ(
      api_->create(&host_, {config.data(), config.size()}, &instance, &error),
      MCPREG_STATUS_INVALID_ARGUMENT);
  api_->free_string(error);
}

TEST_F(PluginAbiTest, HostTableOfAnotherMajorIsRefused) {
  mcpreg_host_api old_host = host_;
  old_host.abi_major = MCPREG_ABI_MAJOR + 1;
  mcpreg_instance* instance = nullptr;
  char* error = nullptr;
  EXPECT_EQ(api_->create(&old_host, {"{}", 2}, &instance, &error),
            MCPREG_STATUS_FAILED_PRECONDITION);
  ASSERT_NE(error, nullptr);
  EXPECT_THAT(std::string(error), HasSubstr("host speaks plugin ABI 2.0"));
  api_->free_string(error);
}

TEST_F(PluginAbiTest, HostTableTooSmallForTheLogSlotIsRefused) {
  mcpreg_host_api tiny = host_;
  tiny.struct_size = offsetof(mcpreg_host_api, log);
  mcpreg_instance* instance = nullptr;
  char* error = nullptr;
  EXPECT_EQ(api_->create(&tiny, {"{}", 2}, &instance, &error),
            MCPREG_STATUS_FAILED_PRECONDITION);
  api_->free_string(error);
}

TEST_F(PluginAbiTest, DescribeListsMethodsAndSelfContainedDescriptors) {
  mcpreg_instance* instance = CreateOrDie("{}");
  mcpreg_description d{};
  d.struct_size = sizeof(d);
  ASSERT_EQ(api_->describe(instance, &d), MCPREG_STATUS_OK);
  std::vector<std::string> methods;
  for (size_t i = 0; i < d.method_count; ++i) {
    methods.emplace_back(d.methods[i].data, d.methods[i].size);
  }
  EXPECT_THAT(methods, Contains(kGetPluginInfo));
  EXPECT_THAT(methods, Contains(kHealthCheck));

  // The set must build into a pool on its own: dependencies included.
  google::protobuf::FileDescriptorSet set;
  ASSERT_TRUE(set.ParseFromArray(d.file_descriptor_set.data,
                                 static_cast<int>(d.file_descriptor_set.size)));
  google::protobuf::DescriptorPool pool;
  for (const auto& file : set.file()) {
    ASSERT_NE(pool.BuildFile(file), nullptr) << file.name();
  }
  EXPECT_NE(pool.FindMethodByName("mcpreg.v1.McpRegistry.GetPluginInfo"),
            nullptr);
  EXPECT_NE(pool.FindMethodByName("grpc.health.v1.Health.Check"), nullptr);

  // A second describe returns the same instance-owned storage.
  mcpreg_description again{};
  again.struct_size = sizeof(again);
  api_->describe(instance, &again);
  EXPECT_EQ(again.methods, d.methods);
  EXPECT_EQ(again.file_descriptor_set.data, d.file_descriptor_set.data);
  api_->destroy(instance);
}

TEST_F(PluginAbiTest, DescribeFillsOnlyWhatAnOlderHostsStructHolds) {
  mcpreg_instance* instance = CreateOrDie("{}");
  mcpreg_description d{};
  d.struct_size = offsetof(mcpreg_description, file_descriptor_set);
  d.file_descriptor_set = {reinterpret_cast<const uint8_t*>(0x1), 77};
  ASSERT_EQ(api_->describe(instance, &d), MCPREG_STATUS_OK);
  EXPECT_GT(d.method_count, 0u);
  EXPECT_EQ(d.file_descriptor_set.size, 77u);  // untouched: past struct_size
  api_->destroy(instance);
}

TEST_F(PluginAbiTest, GetPluginInfoCompletesAsynchronouslyWithItsResponse) {
  mcpreg_instance* instance = CreateOrDie(R"({"workerThreads": 2})");
  Completion c;
  ASSERT_EQ(StartCall(instance, kGetPluginInfo, "", &c), MCPREG_STATUS_OK);
  ASSERT_TRUE(c.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(c.code, MCPREG_STATUS_OK);

  // Decode with the plugin's own descriptors.
  mcpreg_description d{};
  d.struct_size = sizeof(d);
  api_->describe(instance, &d);
  google::protobuf::FileDescriptorSet set;
  set.ParseFromArray(d.file_descriptor_set.data,
                     static_cast<int>(d.file_descriptor_set.size));
  google::protobuf::DescriptorPool pool;
  for (const auto& file : set.file()) pool.BuildFile(file);
  google::protobuf::DynamicMessageFactory factory(&pool);
  const auto* type = pool.FindMessageTypeByName("mcpreg.v1.PluginInfo");
  ASSERT_NE(type, nullptr);
  std::unique_ptr<google::protobuf::Message> info(
      factory.GetPrototype(type)->New());
  ASSERT_TRUE(info->ParseFromString(c.response));
  const auto* reflection = info->GetReflection();
  EXPECT_EQ(reflection->GetString(*info, type->FindFieldByName("name")),
            "mcpreg");
  EXPECT_EQ(reflection->GetUInt32(*info, type->FindFieldByName("abi_major")),
            MCPREG_ABI_MAJOR);
  api_->destroy(instance);
  EXPECT_EQ(c.times.load(), 1);
}

TEST_F(PluginAbiTest, UnknownMethodIsRejectedUpFrontWithoutACompletion) {
  mcpreg_instance* instance = CreateOrDie("{}");
  Completion c;
  EXPECT_EQ(StartCall(instance, "/mcpreg.v1.McpRegistry/Nope", "", &c),
            MCPREG_STATUS_UNIMPLEMENTED);
  api_->destroy(instance);
  EXPECT_EQ(c.times.load(), 0);
}

TEST_F(PluginAbiTest, GarbageRequestBytesAreInvalidArgumentNotACrash) {
  mcpreg_instance* instance = CreateOrDie("{}");
  Completion c;
  const std::string garbage("\xff\xff\xff\xff\x0f", 5);
  ASSERT_EQ(StartCall(instance, kHealthCheck, garbage, &c), MCPREG_STATUS_OK);
  ASSERT_TRUE(c.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(c.code, MCPREG_STATUS_INVALID_ARGUMENT);
  EXPECT_THAT(c.message, HasSubstr("grpc.health.v1.HealthCheckRequest"));
  api_->destroy(instance);
}

TEST_F(PluginAbiTest, DestroyCompletesEveryAcceptedCallExactlyOnce) {
  mcpreg_instance* instance =
      CreateOrDie(R"({"workerThreads": 1, "maxQueuedCalls": 10000})");
  constexpr int kCalls = 2000;
  std::vector<Completion> completions(kCalls);
  int accepted = 0;
  for (int i = 0; i < kCalls; ++i) {
    if (StartCall(instance, kGetPluginInfo, "", &completions[i]) ==
        MCPREG_STATUS_OK) {
      ++accepted;
    }
  }
  EXPECT_EQ(accepted, kCalls);
  api_->destroy(instance);  // must not return before every completion ran
  int completed = 0;
  for (const Completion& c : completions) {
    EXPECT_LE(c.times.load(), 1);
    completed += c.times.load();
  }
  EXPECT_EQ(completed, accepted);
}

TEST_F(PluginAbiTest, CheapMethodsMayCompleteBeforeCallReturns) {
  // The ABI allows it and the plugin does it for GetPluginInfo and health:
  // a host must be ready for `complete` to run inside `call`.
  mcpreg_instance* instance = CreateOrDie("{}");
  for (const char* method : {kGetPluginInfo, kHealthCheck}) {
    Completion c;
    ASSERT_EQ(StartCall(instance, method, "", &c), MCPREG_STATUS_OK);
    EXPECT_TRUE(c.done.HasBeenNotified()) << method;
    EXPECT_EQ(c.code, MCPREG_STATUS_OK) << method << ": " << c.message;
    EXPECT_EQ(c.times.load(), 1);
  }
  api_->destroy(instance);
}

TEST_F(PluginAbiTest, CancelOfAnUnknownCallIsHarmless) {
  mcpreg_instance* instance = CreateOrDie("{}");
  int not_a_call = 0;
  api_->cancel(instance, &not_a_call);
  api_->destroy(instance);
}

TEST_F(PluginAbiTest, PluginLogsThroughTheHostCallback) {
  mcpreg_instance* instance = CreateOrDie("{}");
  api_->destroy(instance);
  std::lock_guard<std::mutex> lock(log_.mu);
  EXPECT_THAT(log_.lines, Contains(HasSubstr("mcpreg instance ready")));
}

TEST_F(PluginAbiTest, TwoInstancesOfOneLibraryAreIndependent) {
  mcpreg_instance* a = CreateOrDie("{}");
  mcpreg_instance* b = CreateOrDie("{}");
  EXPECT_NE(a, b);
  api_->destroy(a);
  Completion c;
  ASSERT_EQ(StartCall(b, kGetPluginInfo, "", &c), MCPREG_STATUS_OK);
  ASSERT_TRUE(c.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(c.code, MCPREG_STATUS_OK);
  api_->destroy(b);
}

}  // namespace

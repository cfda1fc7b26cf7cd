// The host's and the plugin's JSON settings: defaults, and refusals that name
// the key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host/host_config.h"
#include "plugin/src/plugin_config.h"

namespace mcpreg {
namespace {

using ::testing::HasSubstr;

TEST(HostConfigTest, EmptyMeansDefaults) {
  auto config = host::ParseHostConfig("  ", "test.json");
  ASSERT_TRUE(config.ok());
  host::ApplyHostDefaults(*config, "/opt/mcpreg/bin");
  EXPECT_EQ(config->plugin_path(), "/opt/mcpreg/bin/../lib/libmcpreg.so");
  EXPECT_EQ(config->grpc_listen(), "127.0.0.1:7443");
  EXPECT_EQ(config->drain_timeout_ms(), 10000u);
  EXPECT_EQ(config->max_call_timeout_ms(), 30000u);
  EXPECT_EQ(config->max_request_bytes(), 4u * 1024 * 1024);
  EXPECT_EQ(config->rest_limits().max_connections(), 256u);
  EXPECT_EQ(config->rest_limits().max_header_count(), 100u);
  EXPECT_EQ(config->rest_limits().max_header_bytes(), 32u * 1024);
  EXPECT_EQ(config->rest_limits().header_timeout_ms(), 10000u);
  EXPECT_EQ(config->rest_limits().body_timeout_ms(), 30000u);
  EXPECT_EQ(config->rest_limits().idle_timeout_ms(), 5000u);
  EXPECT_EQ(host::PluginConfigJson(*config), "{}");
}

TEST(HostConfigTest, UnknownKeyIsRefusedNamingTheFileAndKey) {
  auto config = host::ParseHostConfig(R"({"grpcListen":"x","colour":1})",
                                      "/etc/mcpreg/host.json");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()),
              HasSubstr("/etc/mcpreg/host.json"));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("colour"));
}

TEST(HostConfigTest, PluginConfigPassesThroughAsJson) {
  auto config = host::ParseHostConfig(
      R"({"pluginConfig": {"workerThreads": 3}, "drainTimeoutMs": 5})", "t");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->drain_timeout_ms(), 5u);
  EXPECT_THAT(host::PluginConfigJson(*config),
              HasSubstr("\"workerThreads\":3"));
}

TEST(HostConfigTest, RestLimitsKeepWhatIsSet) {
  auto config = host::ParseHostConfig(
      R"({"restLimits": {"maxConnections": 8, "headerTimeoutMs": 1000}})", "t");
  ASSERT_TRUE(config.ok()) << config.status();
  host::ApplyHostDefaults(*config, "/opt/mcpreg/bin");
  EXPECT_EQ(config->rest_limits().max_connections(), 8u);
  EXPECT_EQ(config->rest_limits().header_timeout_ms(), 1000u);
  EXPECT_EQ(config->rest_limits().body_timeout_ms(), 30000u);
}

TEST(HostConfigTest, MissingFileIsNotFound) {
  EXPECT_EQ(host::LoadHostConfig("/nonexistent/host.json").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(PluginConfigTest, DefaultsAreFilledIn) {
  auto config = ParsePluginConfig("");
  ASSERT_TRUE(config.ok());
  EXPECT_GE(config->worker_threads(), 4u);
  EXPECT_EQ(config->max_queued_calls(), 4096u);
}

TEST(PluginConfigTest, RefusesUnknownKeysAndOutOfRangeValues) {
  EXPECT_THAT(
      std::string(ParsePluginConfig(R"({"nope":1})").status().message()),
      HasSubstr("nope"));
  EXPECT_THAT(
      std::string(
          ParsePluginConfig(R"({"workerThreads":5000})").status().message()),
      HasSubstr("workerThreads must be at most 1024"));
  EXPECT_FALSE(ParsePluginConfig(R"({"workerThreads":-1})").ok());
  EXPECT_THAT(
      std::string(ParsePluginConfig(R"({"database":{"maxConnections":1}})")
                      .status()
                      .message()),
      HasSubstr("database.maxConnections must be at least 2"));
  EXPECT_FALSE(ParsePluginConfig("[]").ok());
}

}  // namespace
}  // namespace mcpreg

// ABI negotiation: what the host accepts and refuses, and what it says.
#include "host/plugin_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/host_process.h"

namespace mcpreg::host {
namespace {

using ::testing::HasSubstr;

int32_t NoCreate(const mcpreg_host_api*, mcpreg_str, mcpreg_instance**,
                 char**) {
  return MCPREG_STATUS_INTERNAL;
}
void NoDestroy(mcpreg_instance*) {}
void NoFree(char*) {}
int32_t NoDescribe(mcpreg_instance*, mcpreg_description*) { return 0; }
int32_t NoCall(mcpreg_instance*, const mcpreg_call_info*, mcpreg_bytes,
               mcpreg_completion_fn, void*) {
  return 0;
}
void NoCancel(mcpreg_instance*, void*) {}

class DescriptorTest : public ::testing::Test {
 protected:
  DescriptorTest() {
    api_ = {sizeof(api_), NoCreate, NoDestroy, NoFree,
            NoDescribe,   NoCall,   NoCancel};
    d_ = {sizeof(d_), MCPREG_ABI_MAJOR, MCPREG_ABI_MINOR, "p", "1", &api_};
  }
  absl::Status Check() { return CheckPluginDescriptor(&d_, "/x/libp.so"); }

  mcpreg_plugin_api api_;
  mcpreg_plugin_descriptor d_;
};

TEST_F(DescriptorTest, AcceptsTheHostsOwnVersion) { EXPECT_TRUE(Check().ok()); }

TEST_F(DescriptorTest, RefusesAnotherMajorNamingBothVersionsAndTheFile) {
  d_.abi_major = MCPREG_ABI_MAJOR + 1;
  d_.abi_minor = 0;
  absl::Status s = Check();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("/x/libp.so was built for plugin ABI 2.0, this host "
                        "speaks 1.0 — rebuild the plugin"));
}

TEST_F(DescriptorTest, RefusesAnOlderMajorToo) {
  d_.abi_major = 0;
  EXPECT_EQ(Check().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(DescriptorTest, RefusesANewerMinor) {
  d_.abi_minor = MCPREG_ABI_MINOR + 3;
  absl::Status s = Check();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("built for plugin ABI 1.3, this host speaks 1.0"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("upgrade the host"));
}

TEST_F(DescriptorTest, RefusesNull) {
  EXPECT_THAT(std::string(CheckPluginDescriptor(nullptr, "/x").message()),
              HasSubstr("returned NULL"));
}

TEST_F(DescriptorTest, ReadsNoVersionFromADescriptorTooSmallToHoldIt) {
  d_.struct_size = sizeof(size_t) + sizeof(uint32_t);  // ends before minor
  d_.abi_major = 99;  // must not be reported: it lies past struct_size
  absl::Status s = Check();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("too small to hold an ABI version"));
}

TEST_F(DescriptorTest, RefusesADescriptorWithoutItsFunctionTable) {
  d_.struct_size = offsetof(mcpreg_plugin_descriptor, api);
  EXPECT_EQ(Check().code(), absl::StatusCode::kInvalidArgument);
  d_.struct_size = sizeof(d_);
  d_.api = nullptr;
  EXPECT_THAT(std::string(Check().message()), HasSubstr("no function table"));
}

TEST_F(DescriptorTest, RefusesATruncatedFunctionTable) {
  api_.struct_size = offsetof(mcpreg_plugin_api, cancel);
  EXPECT_THAT(std::string(Check().message()),
              HasSubstr("smaller than ABI 1.0's"));
}

TEST_F(DescriptorTest, NamesTheMissingFunction) {
  api_.call = nullptr;
  EXPECT_THAT(std::string(Check().message()), HasSubstr("no 'call' function"));
}

TEST_F(DescriptorTest, AcceptsALargerDescriptorFromALaterMinorLayout) {
  // A plugin of the same minor may still pad; only the prefix is read.
  struct Bigger {
    mcpreg_plugin_descriptor d;
    uint64_t extra;
  } bigger{d_, 7};
  bigger.d.struct_size = sizeof(bigger);
  EXPECT_TRUE(CheckPluginDescriptor(&bigger.d, "/x").ok());
}

TEST(LoadedPluginTest, MissingFileIsNotFound) {
  auto p = LoadedPlugin::Open("/nonexistent/libnothing.so");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(p.status().message()),
              HasSubstr("cannot load plugin /nonexistent/libnothing.so"));
}

TEST(LoadedPluginTest, LibraryWithoutEntrySymbolIsNotAPlugin) {
  const std::string path = testing::FixturePath("no_entry");
  auto p = LoadedPlugin::Open(path);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(p.status().message()),
              HasSubstr(path + " does not export mcpreg_plugin_entry"));
}

TEST(LoadedPluginTest, RealPluginLoads) {
  auto p = LoadedPlugin::Open(testing::PluginPath());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_STREQ(p->descriptor().plugin_name, "mcpreg");
  EXPECT_EQ(p->descriptor().abi_major, MCPREG_ABI_MAJOR);
}

TEST(LoadedPluginTest, WrongMajorFixtureIsRefused) {
  auto p = LoadedPlugin::Open(testing::FixturePath("wrong_major"));
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace mcpreg::host

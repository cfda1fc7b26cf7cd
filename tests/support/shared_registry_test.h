// A test suite that shares one running registry (RegistryServer) and one
// channel to it across its tests: starting PostgreSQL and mcpreg-host per
// test would cost seconds each.
#ifndef MCPREG_TESTS_SUPPORT_SHARED_REGISTRY_TEST_H_
#define MCPREG_TESTS_SUPPORT_SHARED_REGISTRY_TEST_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>

#include "tests/support/raw_grpc.h"
#include "tests/support/registry_server.h"

namespace mcpreg::testing {

// `Suite` is the deriving fixture (each suite gets a registry of its own);
// `kRest` also starts the REST gateway. The registry is started by the
// suite's first test, not in SetUpTestSuite: gtest reports a failure there
// as every test "skipped", which ctest counts as passing. It is stopped
// after the suite's last test, and must exit cleanly.
template <typename Suite, bool kRest = false>
class SharedRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (server_ == nullptr) server_ = new RegistryServer(kRest);
    ASSERT_TRUE(server_->ok()) << server_->error();
    if (channel_ == nullptr) {
      channel_ = new std::shared_ptr<grpc::Channel>(
          InsecureChannel(server_->address()));
    }
  }
  static void TearDownTestSuite() {
    delete channel_;
    channel_ = nullptr;
    if (server_ == nullptr) return;
    EXPECT_EQ(server_->Stop(), 0) << server_->host().Stderr();
    delete server_;
    server_ = nullptr;
  }

  static inline RegistryServer* server_ = nullptr;
  static inline std::shared_ptr<grpc::Channel>* channel_ = nullptr;
};

}  // namespace mcpreg::testing

#endif  // MCPREG_TESTS_SUPPORT_SHARED_REGISTRY_TEST_H_

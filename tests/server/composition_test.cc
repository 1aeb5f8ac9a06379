// compose(): the composition root turns a configuration into the Runtime,
// and the default lane's policy is the one truth for the server-wide
// l1_* / default_ttl_s / min_compute_ms settings once it is resolved.
#include "server/composition.h"

#include <gtest/gtest.h>

#include <memory>

#include "plancache/clock.h"
#include "test_server.h"

namespace plancache::testing {
namespace {

using internal::compose;
using internal::Runtime;

class ComposeTest : public ::testing::Test {
 protected:
  ComposeTest() : clock_(std::make_shared<FakeClock>()) {
    config_ = test_config();
    config_.clock = clock_;
  }

  // The expiry a put without a TTL gets in `ns`, relative to now.
  int64_t default_ttl_ms(Runtime& runtime, std::string_view ns) {
    const CacheKey key(ns, KeyKind::kUser, "k");
    EXPECT_TRUE(runtime.cache->put(key, std::make_shared<const Bytes>("1"), {}).is_ok());
    const Lookup hit = runtime.cache->get(key, {});
    EXPECT_TRUE(hit.hit());
    return hit.hit() ? hit.entry->meta.expires_ms - clock_->now_ms() : -1;
  }

  std::shared_ptr<FakeClock> clock_;
  server::ServerConfig config_;
};

TEST_F(ComposeTest, AnEmbeddedConfigTakesTheDefaultLaneFromTheServerWideFields) {
  config_.l1_max_entries = 7;
  config_.l1_max_bytes = 7000;
  config_.default_ttl_s = 5;
  config_.min_compute_ms = 3;
  auto runtime = compose(config_);
  ASSERT_TRUE(runtime.is_ok()) << runtime.status().to_string();
  const NamespacePolicy& lane = runtime->policies->get(kDefaultNamespace);
  EXPECT_EQ(lane.memory.max_entries, 7u);
  EXPECT_EQ(lane.memory.max_bytes, 7000u);
  EXPECT_EQ(lane.default_ttl_ms, 5000);
  EXPECT_EQ(lane.min_compute_ms, 3);
  EXPECT_EQ(default_ttl_ms(*runtime, "default"), 5000);
  ASSERT_NE(runtime->planning, nullptr) << "leases run on it without planners";
  EXPECT_FALSE(runtime->planning->has_planner()) << "no planner configured";
  EXPECT_NE(runtime->leases, nullptr);
}

TEST_F(ComposeTest, ResolvedPoliciesAreTheTruthNotTheFields) {
  NamespacePolicies policies;
  NamespacePolicy lane = policies.get(kDefaultNamespace);
  lane.default_ttl_ms = 9000;
  ASSERT_TRUE(policies.set(std::string(kDefaultNamespace), lane).is_ok());
  config_.namespaces = std::make_shared<const NamespacePolicies>(std::move(policies));
  config_.default_ttl_s = 3600;  // an input only: the policy above wins
  auto runtime = compose(config_);
  ASSERT_TRUE(runtime.is_ok()) << runtime.status().to_string();
  EXPECT_EQ(runtime->policies, config_.namespaces);
  EXPECT_EQ(default_ttl_ms(*runtime, "default"), 9000);
  EXPECT_EQ(default_ttl_ms(*runtime, "never-configured"), 9000) << "shares the default lane";
}

TEST_F(ComposeTest, ABadHashNameIsRefused) {
  config_.hash = "md5";
  auto runtime = compose(config_);
  ASSERT_FALSE(runtime.is_ok());
  EXPECT_EQ(runtime.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace plancache::testing

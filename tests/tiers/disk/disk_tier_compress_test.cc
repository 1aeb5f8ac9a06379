// DiskTierOptions::compress_namespace: the namespace policy's `compress`
// switch. Observed through the bytes the tier charges each namespace (the
// charge includes the stored envelope), so no test hook is needed.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "disk_test_util.h"

namespace plancache::testing {
namespace {

// 64 KiB that zstd shrinks to a few hundred bytes.
std::string compressible() {
  std::string s;
  while (s.size() < (64u << 10)) s += "{\"step\":\"build the thing\",\"n\":1},";
  return s;
}

std::unique_ptr<Tier> open_tier(const std::string& path,
                                std::function<bool(std::string_view)> compress_namespace) {
  DiskTierOptions options;
  options.path = path;
  options.compress_namespace = std::move(compress_namespace);
  auto tier = new_disk_tier(std::move(options));
  EXPECT_TRUE(tier.is_ok()) << tier.status().to_string();
  return tier.is_ok() ? std::move(tier).value() : nullptr;
}

TEST(DiskTierCompressTest, OnlyNamespacesThatAllowItAreCompressed) {
  TempDir dir;
  std::atomic<int> asked{0};
  auto tier = open_tier(dir.path(), [&asked](std::string_view ns) {
    asked.fetch_add(1);
    return ns != "raw";
  });
  ASSERT_NE(tier, nullptr);
  const std::string value = compressible();
  ASSERT_TRUE(tier->put(plan_key("raw", "a"), make_entry(bytes(value), 0, 0)).is_ok());
  ASSERT_TRUE(tier->put(plan_key("zip", "a"), make_entry(bytes(value), 0, 0)).is_ok());
  EXPECT_EQ(asked.load(), 2) << "asked once per put";

  TierStats stats = tier->stats();
  EXPECT_GT(stats.namespaces["raw"].bytes, value.size()) << "stored as is";
  EXPECT_LT(stats.namespaces["zip"].bytes, value.size() / 8) << "zstd-compressed";

  for (const char* ns : {"raw", "zip"}) {
    auto got = tier->get(plan_key(ns, "a"));
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    ASSERT_NE(*got, nullptr) << ns;
    EXPECT_EQ(*(*got)->value, value) << ns;
  }
}

TEST(DiskTierCompressTest, NoSwitchCompressesEveryNamespace) {
  TempDir dir;
  auto tier = open_tier(dir.path(), nullptr);
  ASSERT_NE(tier, nullptr);
  const std::string value = compressible();
  for (const char* ns : {"raw", "zip"}) {
    ASSERT_TRUE(tier->put(plan_key(ns, "a"), make_entry(bytes(value), 0, 0)).is_ok());
  }
  TierStats stats = tier->stats();
  EXPECT_LT(stats.namespaces["raw"].bytes, value.size() / 8);
  EXPECT_LT(stats.namespaces["zip"].bytes, value.size() / 8);
}

TEST(DiskTierCompressTest, ASwitchedOffNamespaceReadsEntriesWrittenCompressed) {
  // A policy can change between runs: envelopes say whether they are
  // compressed, so old entries stay readable.
  TempDir dir;
  const std::string value = compressible();
  {
    auto tier = open_tier(dir.path(), nullptr);
    ASSERT_NE(tier, nullptr);
    ASSERT_TRUE(tier->put(plan_key("ns", "old"), make_entry(bytes(value), 0, 0)).is_ok());
  }
  auto tier = open_tier(dir.path(), [](std::string_view) { return false; });
  ASSERT_NE(tier, nullptr);
  ASSERT_TRUE(tier->put(plan_key("ns", "new"), make_entry(bytes(value), 0, 0)).is_ok());
  for (const char* id : {"old", "new"}) {
    auto got = tier->get(plan_key("ns", id));
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    ASSERT_NE(*got, nullptr) << id;
    EXPECT_EQ(*(*got)->value, value) << id;
  }
}

}  // namespace
}  // namespace plancache::testing

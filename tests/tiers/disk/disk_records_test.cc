// The disk tier's own record encodings (tiers/disk/disk_records.h).
#include "tiers/disk/disk_records.h"

#include <gtest/gtest.h>

namespace plancache::internal {
namespace {

TEST(DiskRecords, MetaRoundTrips) {
  MetaRecord m{.stamp = 0x0102030405060708,
               .charge = 4242,
               .created_ms = 1'790'000'000'000,
               .expires_ms = -1,
               .tags = {"a", "", std::string("b\0c", 3)}};
  const auto back = decode_meta(encode_meta(m));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->stamp, m.stamp);
  EXPECT_EQ(back->charge, m.charge);
  EXPECT_EQ(back->created_ms, m.created_ms);
  EXPECT_EQ(back->expires_ms, m.expires_ms);
  EXPECT_EQ(back->tags, m.tags);
}

TEST(DiskRecords, MalformedMetaIsRejected) {
  const std::string good = encode_meta(MetaRecord{.stamp = 1, .charge = 2, .tags = {"tag"}});
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(decode_meta(good.substr(0, n)).has_value()) << "truncated to " << n;
  }
  EXPECT_FALSE(decode_meta(good + "x").has_value());  // trailing bytes
  std::string bad_version = good;
  bad_version[0] = 9;
  EXPECT_FALSE(decode_meta(bad_version).has_value());
  std::string huge_count = encode_meta(MetaRecord{});
  huge_count[33] = '\xff';  // ntags = 255 with no bytes behind it
  EXPECT_FALSE(decode_meta(huge_count).has_value());
}

TEST(DiskRecords, OrderKeysSortNumerically) {
  EXPECT_LT(order_key(255, "z"), order_key(256, "a"));
  EXPECT_LT(order_key(1, "k"), order_key(uint64_t{1} << 40, "k"));
  EXPECT_EQ(read_be64(order_key(0xdeadbeefcafe, "key")), 0xdeadbeefcafeu);
  EXPECT_EQ(order_key(7, "key").substr(8), "key");
}

TEST(DiskRecords, TagKeysGroupByTag) {
  const std::string k = tag_key("t", std::string("ns\0uid", 6));
  EXPECT_EQ(k, std::string("t\0ns\0uid", 8));
  EXPECT_EQ(k.rfind(std::string("t\0", 2), 0), 0u);
}

TEST(DiskRecords, CountersWrapForNegativeDeltas) {
  const uint64_t start = *decode_counter(counter_operand(100));
  const uint64_t minus = *decode_counter(counter_operand(-30));
  EXPECT_EQ(start + minus, 70u);  // what uint64add computes
  EXPECT_FALSE(decode_counter("short").has_value());
  EXPECT_EQ(entries_counter_key("docs"), "edocs");
  EXPECT_EQ(bytes_counter_key("docs"), "bdocs");
}

TEST(DiskRecords, PrefixHelpers) {
  EXPECT_EQ(glob_literal_prefix("workflow:*:step"), "workflow:");
  EXPECT_EQ(glob_literal_prefix("a?b"), "a");
  EXPECT_EQ(glob_literal_prefix("[ab]c"), "");
  EXPECT_EQ(glob_literal_prefix("esc\\*"), "esc");
  EXPECT_EQ(glob_literal_prefix("plain"), "plain");
  EXPECT_EQ(prefix_successor("abc"), "abd");
  EXPECT_EQ(prefix_successor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_successor(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(prefix_successor(std::string("ns\0", 3)), std::string("ns\1", 3));
}

}  // namespace
}  // namespace plancache::internal

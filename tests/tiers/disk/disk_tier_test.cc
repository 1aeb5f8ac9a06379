// Disk tier: get/put/erase, errors at open, warm restart without a scan,
// checksum verification, TTL and the byte bound with LRU eviction.
#include <gtest/gtest.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>

#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "disk_test_util.h"

namespace plancache::testing {
namespace {

class DiskTierTest : public ::testing::Test {
 protected:
  DiskTierOptions options(uint64_t max_bytes = 0) {
    DiskTierOptions o;
    o.path = dir_.file("store");
    o.max_bytes = max_bytes;
    o.clock = clock_;
    return o;
  }
  EntryPtr entry(std::string value, int64_t ttl_ms = 0, std::vector<std::string> tags = {}) {
    return make_entry(bytes(std::move(value)), clock_->now_ms(), ttl_ms, 7, std::move(tags));
  }

  TempDir dir_;
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
};

TEST_F(DiskTierTest, PutGetEraseReplace) {
  auto tier = open_disk(options());
  ASSERT_NE(tier, nullptr);
  const CacheKey key = plan_key("docs", "abc123");
  EXPECT_EQ(value_of(*tier, key), "");
  ASSERT_TRUE(tier->put(key, entry(R"({"steps":[1,2]})", 0, {"t1"})).is_ok());
  auto got = tier->get(key);
  ASSERT_TRUE(got.is_ok());
  ASSERT_NE(*got, nullptr);
  EXPECT_EQ(*(*got)->value, R"({"steps":[1,2]})");
  EXPECT_EQ((*got)->meta.compute_ms, 7u);
  EXPECT_EQ((*got)->meta.tags, std::vector<std::string>{"t1"});
  EXPECT_EQ((*got)->meta.created_ms, clock_->now_ms());

  ASSERT_TRUE(tier->put(key, entry("{\"v\":2}")).is_ok());  // replace
  EXPECT_EQ(value_of(*tier, key), "{\"v\":2}");
  TierStats s = tier->stats();
  EXPECT_EQ(s.name, "l2");
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.puts, 2u);
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_GT(s.bytes, 0u);
  EXPECT_EQ(s.namespaces["docs"].entries, 1u);
  EXPECT_EQ(s.namespaces["docs"].bytes, s.bytes);

  auto erased = tier->erase(key);
  ASSERT_TRUE(erased.is_ok());
  EXPECT_TRUE(*erased);
  EXPECT_FALSE(*tier->erase(key));
  EXPECT_EQ(value_of(*tier, key), "");
  s = tier->stats();
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.bytes, 0u);
}

TEST_F(DiskTierTest, LargeValuesRoundTripCompressed) {
  auto tier = open_disk(options());
  std::string big;
  for (int i = 0; big.size() < 40'000; ++i) big += "{\"task\":" + std::to_string(i % 97) + "},";
  ASSERT_TRUE(tier->put(user_key("heavy", "big"), entry(big)).is_ok());
  EXPECT_EQ(value_of(*tier, user_key("heavy", "big")), big);
  // Compressed in the envelope: charged far less than the raw value.
  EXPECT_LT(tier->stats().bytes, big.size() / 2);
}

TEST_F(DiskTierTest, OpenRejectsEmptyPathAndFiles) {
  DiskTierOptions o = options();
  o.path = "";
  EXPECT_EQ(new_disk_tier(o).status().code(), StatusCode::kInvalidArgument);
  const std::string file = dir_.file("a-file");
  std::ofstream(file) << "x";
  o.path = file;
  auto r = new_disk_tier(o);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find(file), std::string::npos) << r.status().message();
}

TEST_F(DiskTierTest, OpenCreatesMissingParentsAndRefusesASecondOpener) {
  DiskTierOptions o = options();
  o.path = dir_.file("a/b/c");
  auto first = new_disk_tier(o);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  auto second = new_disk_tier(o);
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find(o.path), std::string::npos)
      << second.status().message();
}

TEST_F(DiskTierTest, WarmRestartServesEntriesWithoutScanning) {
  constexpr int kEntries = 3000;
  TierStats before;
  {
    auto tier = open_disk(options());
    for (int i = 0; i < kEntries; ++i) {
      const std::string ns = i % 3 == 0 ? "docs" : "heavy";
      ASSERT_TRUE(tier->put(user_key(ns, "k" + std::to_string(i)),
                            entry("value-" + std::to_string(i), 0, {"tag" + std::to_string(i % 5)}))
                      .is_ok());
    }
    ASSERT_TRUE(tier->compact_for_test().is_ok());  // part in SSTs, part in the WAL
    ASSERT_TRUE(tier->put(user_key("docs", "last"), entry("in the WAL only")).is_ok());
    before = tier->stats();
  }
  auto tier = open_disk(options());
  ASSERT_NE(tier, nullptr);
  // Opening read the counters (2 per namespace) and the two ends of the lru
  // index: nothing proportional to the number of entries.
  EXPECT_LE(tier->keys_scanned(), 2u * 2u + 2u);
  const TierStats after = tier->stats();
  EXPECT_EQ(after.entries, static_cast<uint64_t>(kEntries) + 1);
  EXPECT_EQ(after.entries, before.entries);
  EXPECT_EQ(after.bytes, before.bytes);
  EXPECT_EQ(after.namespaces.at("docs").entries, before.namespaces.at("docs").entries);
  for (int i = 0; i < kEntries; i += 7) {
    const std::string ns = i % 3 == 0 ? "docs" : "heavy";
    EXPECT_EQ(value_of(*tier, user_key(ns, "k" + std::to_string(i))), "value-" + std::to_string(i));
  }
  EXPECT_EQ(value_of(*tier, user_key("docs", "last")), "in the WAL only");
}

// Garbage written over a stored envelope (a test hook writes the raw bytes).
TEST_F(DiskTierTest, CorruptEnvelopeIsAMissAndIsDeleted) {
  auto tier = open_disk(options());
  const CacheKey key = user_key("docs", "k");
  ASSERT_TRUE(tier->put(key, entry("{\"plan\":1}", 0, {"t"})).is_ok());
  ASSERT_TRUE(tier->write_raw_envelope_for_test(key, "garbage bytes, not an envelope").is_ok());
  EXPECT_EQ(value_of(*tier, key), "");
  TierStats s = tier->stats();
  EXPECT_EQ(s.corrupt_entries, 1u);
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.bytes, 0u);
  EXPECT_FALSE(*tier->erase(key));  // it is gone, index records included
  EXPECT_EQ(*tier->invalidate(by_tag("t")), 0u);
  EXPECT_EQ(value_of(*tier, key), "");
  EXPECT_EQ(tier->stats().corrupt_entries, 1u);
}

// One flipped bit in the value on disk, written with the RocksDB API while
// the tier is closed.
TEST_F(DiskTierTest, BitFlipOnDiskIsDetectedAfterReopen) {
  const CacheKey key = user_key("docs", "k");
  {
    auto tier = open_disk(options());
    ASSERT_TRUE(tier->put(key, entry(std::string(300, 'x'))).is_ok());
    ASSERT_TRUE(tier->put(user_key("docs", "other"), entry("fine")).is_ok());
  }
  {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), options().path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& name : names) {
      rocksdb::ColumnFamilyOptions cfo;
      // The counters family holds merge operands: replaying them needs the operator.
      ASSERT_TRUE(rocksdb::MergeOperator::CreateFromString(rocksdb::ConfigOptions(), "uint64add",
                                                           &cfo.merge_operator)
                      .ok());
      cfs.emplace_back(name, cfo);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), options().path, cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string value;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key.encoded(), &value).ok());  // default CF
    value[value.size() / 2] = static_cast<char>(value[value.size() / 2] ^ 0x04);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key.encoded(), value).ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  }
  auto tier = open_disk(options());
  EXPECT_EQ(value_of(*tier, key), "");
  EXPECT_EQ(tier->stats().corrupt_entries, 1u);
  EXPECT_EQ(tier->stats().entries, 1u);
  EXPECT_EQ(value_of(*tier, user_key("docs", "other")), "fine");
}

TEST_F(DiskTierTest, ExpiredEntryIsAMissAndIsRemoved) {
  auto tier = open_disk(options());
  const CacheKey key = user_key("docs", "k");
  ASSERT_TRUE(tier->put(key, entry("v", /*ttl_ms=*/1000)).is_ok());
  clock_->advance_ms(999);
  EXPECT_EQ(value_of(*tier, key), "v");
  clock_->advance_ms(1);
  EXPECT_EQ(value_of(*tier, key), "");
  const TierStats s = tier->stats();
  EXPECT_EQ(s.expirations, 1u);
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.bytes, 0u);
  EXPECT_FALSE(*tier->erase(key));
}

TEST_F(DiskTierTest, ExpiredEntriesAreNotErasedOrInvalidatedButExpire) {
  auto tier = open_disk(options());
  ASSERT_TRUE(tier->put(user_key("docs", "a"), entry("v", 10)).is_ok());
  ASSERT_TRUE(tier->put(user_key("docs", "b"), entry("v", 10)).is_ok());
  ASSERT_TRUE(tier->put(user_key("docs", "c"), entry("v")).is_ok());
  clock_->advance_ms(10);
  EXPECT_FALSE(*tier->erase(user_key("docs", "a")));
  EXPECT_EQ(*tier->invalidate(by_ns("docs")), 1u);  // only c
  const TierStats s = tier->stats();
  EXPECT_EQ(s.expirations, 2u);
  EXPECT_EQ(s.invalidations, 1u);
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.bytes, 0u);
}

TEST_F(DiskTierTest, PurgeExpiredVisitsOnlyExpiredEntries) {
  {
    auto tier = open_disk(options());
    for (int i = 0; i < 500; ++i) {
      ASSERT_TRUE(tier->put(user_key("docs", "forever" + std::to_string(i)), entry("v")).is_ok());
    }
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(tier->put(user_key("docs", "short" + std::to_string(i)), entry("v", 100)).is_ok());
      ASSERT_TRUE(tier->put(user_key("docs", "long" + std::to_string(i)), entry("v", 10'000)).is_ok());
    }
    clock_->advance_ms(200);
    const uint64_t scanned_before = tier->keys_scanned();
    EXPECT_EQ(tier->purge_expired(), 10u);
    EXPECT_LE(tier->keys_scanned() - scanned_before, 10u);  // not the 500 others
    EXPECT_EQ(tier->purge_expired(), 0u);
    EXPECT_EQ(tier->stats().expirations, 10u);
    EXPECT_EQ(tier->stats().entries, 510u);
  }
  auto tier = open_disk(options());  // the purge was persisted with its counters
  EXPECT_EQ(tier->stats().entries, 510u);
  EXPECT_EQ(value_of(*tier, user_key("docs", "short3")), "");
  EXPECT_EQ(value_of(*tier, user_key("docs", "long3")), "v");
  clock_->advance_ms(10'000);
  EXPECT_EQ(tier->purge_expired(), 10u);
  EXPECT_EQ(tier->stats().entries, 500u);
}

// The eviction test: a budget for ~100 entries, a stream of 3000 cold keys,
// and a hot set of 8 keys each read once every 8 cold puts.
TEST_F(DiskTierTest, HotSetSurvivesAStreamOfColdEntries) {
  constexpr uint64_t kBudget = 64 << 10;
  auto tier = open_disk(options(kBudget));
  const std::string value(500, 'v');
  std::vector<CacheKey> hot;
  for (int i = 0; i < 8; ++i) {
    hot.push_back(user_key("standard", "hot" + std::to_string(i)));
    ASSERT_TRUE(tier->put(hot.back(), entry(value + std::to_string(i))).is_ok());
  }
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(tier->put(user_key("standard", "cold" + std::to_string(i)), entry(value)).is_ok());
    ASSERT_LE(tier->stats().bytes, kBudget);  // one writer: never above the budget
    const size_t h = static_cast<size_t>(i) % hot.size();
    ASSERT_EQ(value_of(*tier, hot[h]), value + std::to_string(h)) << "hot key lost at " << i;
  }
  const TierStats s = tier->stats();
  EXPECT_GT(s.evictions, 2800u);
  EXPECT_LE(s.bytes, kBudget);
  EXPECT_GT(s.bytes, kBudget / 2);
  EXPECT_EQ(value_of(*tier, user_key("standard", "cold0")), "");  // the old cold ones went
  EXPECT_EQ(value_of(*tier, user_key("standard", "cold2999")), value);
}

// Without reads, the oldest entries are the ones evicted (control for the
// test above: eviction is real and in age order).
TEST_F(DiskTierTest, UnreadEntriesAreEvictedOldestFirst) {
  constexpr uint64_t kBudget = 64 << 10;
  auto tier = open_disk(options(kBudget));
  const std::string value(500, 'v');
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(tier->put(user_key("standard", "k" + std::to_string(i)), entry(value)).is_ok());
  }
  const TierStats s = tier->stats();
  EXPECT_LE(s.bytes, kBudget);
  // Survivors are exactly a suffix of the insertion order.
  int first_present = -1;
  for (int i = 0; i < 1000; ++i) {
    const bool present = !value_of(*tier, user_key("standard", "k" + std::to_string(i))).empty();
    if (present && first_present < 0) first_present = i;
    if (first_present >= 0) {
      EXPECT_TRUE(present) << i;
    }
  }
  EXPECT_GT(first_present, 800);
  EXPECT_EQ(s.entries, static_cast<uint64_t>(1000 - first_present));
}

TEST_F(DiskTierTest, EvictFractionRemovesTheLeastRecentlyUsed) {
  auto tier = open_disk(options(1 << 30));
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(tier->put(user_key("docs", "k" + std::to_string(i)), entry("v")).is_ok());
  }
  // Read the ten oldest: they are in the older half, so they become young.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(value_of(*tier, user_key("docs", "k" + std::to_string(i))), "v");
  EXPECT_EQ(tier->evict_fraction(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tier->evict_fraction(1.5).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*tier->evict_fraction(0.5), 50u);
  for (int i = 0; i < 100; ++i) {
    const bool kept = i < 10 || i >= 60;
    EXPECT_EQ(value_of(*tier, user_key("docs", "k" + std::to_string(i))).empty(), !kept) << i;
  }
  const TierStats s = tier->stats();
  EXPECT_EQ(s.entries, 50u);
  EXPECT_EQ(s.invalidations, 50u);
  EXPECT_EQ(s.evictions, 0u);
  EXPECT_EQ(*tier->evict_fraction(1.0), 50u);
  EXPECT_EQ(tier->stats().bytes, 0u);
}

TEST_F(DiskTierTest, EntryLargerThanTheBudgetIsNotKept) {
  auto tier = open_disk(options(4096));
  const CacheKey key = user_key("docs", "k");
  ASSERT_TRUE(tier->put(key, entry("small")).is_ok());
  std::string big(10'000, '\0');
  std::mt19937 rng(1);
  for (auto& c : big) c = static_cast<char>('a' + rng() % 26);  // not compressible enough
  EXPECT_EQ(tier->put(key, entry(big)).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(value_of(*tier, key), "");  // the old value went too
  EXPECT_EQ(tier->stats().entries, 0u);
  EXPECT_EQ(tier->stats().bytes, 0u);
}

// Counters stay exact under concurrent puts, erases, reads and eviction, and
// the persisted counters agree after a reopen.
TEST_F(DiskTierTest, CountersStayExactUnderConcurrency) {
  constexpr uint64_t kBudget = 256 << 10;
  {
    auto tier = open_disk(options(kBudget));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937 rng(static_cast<unsigned>(t));
        for (int i = 0; i < 1500; ++i) {
          const CacheKey key = user_key(t % 2 ? "a" : "b", "k" + std::to_string(rng() % 600));
          switch (rng() % 4) {
            case 0: (void)tier->erase(key); break;
            case 1: (void)tier->get(key); break;
            default:
              (void)tier->put(key, entry(std::string(200 + rng() % 2000, 'x'), 0, {"t"}));
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    uint64_t present = 0;
    for (const char* ns : {"a", "b"}) {
      for (int i = 0; i < 600; ++i) {
        if (!value_of(*tier, user_key(ns, "k" + std::to_string(i))).empty()) ++present;
      }
    }
    TierStats s = tier->stats();
    EXPECT_EQ(s.entries, present);
    EXPECT_EQ(s.namespaces["a"].entries + s.namespaces["b"].entries, present);
    EXPECT_LE(s.bytes, kBudget + kBudget / 8);  // concurrent puts may overshoot a little
    // The tag index holds exactly the live entries.
    EXPECT_EQ(*tier->invalidate(by_tag("t")), present);
    EXPECT_EQ(tier->stats().entries, 0u);
    EXPECT_EQ(tier->stats().bytes, 0u);
  }
  auto tier = open_disk(options(kBudget));
  EXPECT_EQ(tier->stats().entries, 0u);
  EXPECT_EQ(tier->stats().bytes, 0u);
}

}  // namespace
}  // namespace plancache::testing

// The disk tier through RocksDB's failure modes (issue 9 items 3 and 7):
// - a damaged write-ahead log: strict recovery refuses to open and leaves
//   the directory as it was; point-in-time recovery opens, says what it
//   dropped (stats and log), and a sound log opens under strict recovery;
// - a full disk (a real tmpfs, mounted here when the test runs as root):
//   writes fail with unavailable and the tier says it is degraded, reads
//   still work, and once space is freed the tier resumes by itself.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "disk_test_util.h"
#include "tiers/disk/disk_recovery.h"

namespace plancache::testing {
namespace {

using internal::DiskLogFn;
using internal::DiskTier;

constexpr int kWalEntries = 300;

CacheKey wal_key(int i) { return user_key("wal", "k" + std::to_string(i)); }

std::string wal_value(int i) { return std::string(1000, static_cast<char>('a' + i % 26)); }

// The newest write-ahead log file of `dir`.
std::string newest_log(const std::string& dir) {
  std::string newest;  // names are zero-padded numbers: text order is age order
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (f.path().extension() == ".log" && f.path().string() > newest) newest = f.path().string();
  }
  return newest;
}

// Overwrites 64 bytes in the middle of `file`.
void damage_middle(const std::string& file) {
  const auto size = std::filesystem::file_size(file);
  ASSERT_GT(size, 4096u) << file;
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(size / 2));
  const std::string junk(64, '\x5a');
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
}

struct Captured {
  std::mutex mu;
  std::vector<std::string> lines;
  DiskLogFn fn() {
    return [this](DiskLogLevel, std::string_view m) {
      std::lock_guard lock(mu);
      lines.emplace_back(m);
    };
  }
  bool contains(std::string_view text) {
    std::lock_guard lock(mu);
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(text) != std::string::npos; });
  }
};

class WalDamageTest : public ::testing::Test {
 protected:
  DiskTierOptions options(WalRecovery mode) {
    DiskTierOptions o;
    o.path = dir_.path();
    o.sync_writes = true;
    o.wal_recovery = mode;
    return o;
  }
  void write_entries() {
    auto tier = open_disk(options(WalRecovery::kPointInTime));
    ASSERT_NE(tier, nullptr);
    for (int i = 0; i < kWalEntries; ++i) {
      ASSERT_TRUE(tier->put(wal_key(i), make_entry(bytes(wal_value(i)), 1, 0)).is_ok());
    }
    // Closing does not flush: the entries stay in the log (16 MiB buffers).
  }
  TempDir dir_;
};

TEST_F(WalDamageTest, SoundLogOpensUnderStrictRecovery) {
  write_entries();
  auto tier = open_disk(options(WalRecovery::kStrict));
  ASSERT_NE(tier, nullptr);
  EXPECT_EQ(tier->stats().entries, static_cast<uint64_t>(kWalEntries));
  EXPECT_EQ(tier->stats().recovery_dropped_entries, 0u);
}

TEST_F(WalDamageTest, StrictRefusesAndPointInTimeReportsTheLoss) {
  write_entries();
  damage_middle(newest_log(dir_.path()));

  for (int attempt = 0; attempt < 2; ++attempt) {  // the refusal changes nothing
    auto strict = DiskTier::open(options(WalRecovery::kStrict));
    ASSERT_FALSE(strict.is_ok());
    EXPECT_EQ(strict.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(strict.status().message().find(dir_.path()), std::string::npos)
        << strict.status().message();
    EXPECT_NE(strict.status().message().find("damaged"), std::string::npos);
  }

  Captured log;
  DiskTierOptions o = options(WalRecovery::kPointInTime);
  o.log = log.fn();
  auto tier = open_disk(o);
  ASSERT_NE(tier, nullptr);
  const TierStats s = tier->stats();
  EXPECT_GT(s.recovery_dropped_entries, 0u);
  EXPECT_LT(s.entries, static_cast<uint64_t>(kWalEntries));
  EXPECT_LE(s.entries + s.recovery_dropped_entries, static_cast<uint64_t>(kWalEntries));
  EXPECT_EQ(value_of(*tier, wal_key(0)), wal_value(0)) << "the log before the damage is kept";
  EXPECT_EQ(value_of(*tier, wal_key(kWalEntries - 1)), "") << "what follows it is dropped";
  EXPECT_TRUE(log.contains("dropped at least " + std::to_string(s.recovery_dropped_entries)));
  tier.reset();

  // Recovery rewrote the store: it opens clean now, strict or not.
  auto again = open_disk(options(WalRecovery::kStrict));
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->stats().entries, s.entries);
  EXPECT_EQ(again->stats().recovery_dropped_entries, 0u);
}

// --- a full disk ---------------------------------------------------------

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, "size=12m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs on " << dir_.path() << " (" << std::strerror(errno)
                   << "); the full-disk test needs root";
    }
    mounted_ = true;
    std::ofstream ballast(ballast_path(), std::ios::binary);
    const std::string mib(1 << 20, 'b');
    for (int i = 0; i < 6; ++i) ballast << mib;
  }
  void TearDown() override {
    tier_.reset();
    if (mounted_) (void)::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  std::string ballast_path() const { return dir_.file("ballast"); }

  TempDir dir_;
  bool mounted_ = false;
  std::unique_ptr<DiskTier> tier_;
};

TEST_F(DiskFullTest, WritesFailWhileFullAndResumeOnceSpaceIsFreed) {
  DiskTierOptions o;
  o.path = dir_.file("store");
  o.write_buffer_bytes = 4 << 20;  // 1 MiB per column family: resumes with 1 MiB free
  o.max_bytes = 0;
  tier_ = open_disk(o);
  ASSERT_NE(tier_, nullptr);
  std::mt19937_64 rng(7);
  auto random_value = [&] {
    std::string v(64 << 10, '\0');
    for (auto& c : v) c = static_cast<char>(rng());
    return v;
  };
  const std::string first = random_value();
  ASSERT_TRUE(tier_->put(user_key("full", "first"), make_entry(bytes(first), 1, 0)).is_ok());
  Status failed;
  for (int i = 0; i < 1000 && failed.is_ok(); ++i) {
    failed = tier_->put(user_key("full", "k" + std::to_string(i)),
                        make_entry(bytes(random_value()), 1, 0));
  }
  ASSERT_FALSE(failed.is_ok()) << "12 MiB of tmpfs never filled";
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable) << failed.to_string();
  EXPECT_NE(failed.message().find("resumes by itself"), std::string::npos) << failed.message();
  TierStats s = tier_->stats();
  EXPECT_FALSE(s.connected);
  EXPECT_NE(s.degraded.find("No space left"), std::string::npos) << s.degraded;
  EXPECT_EQ(value_of(*tier_, user_key("full", "first")), first) << "reads still work";

  std::filesystem::remove(ballast_path());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  Status put;
  do {  // polling with a deadline: the resumer needs no put to run
    s = tier_->stats();
    if (s.connected) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(s.connected) << "still degraded 20 s after space was freed: " << s.degraded;
  EXPECT_EQ(s.degraded, "");
  put = tier_->put(user_key("full", "after"), make_entry(bytes("healed"), 1, 0));
  EXPECT_TRUE(put.is_ok()) << put.to_string();
  EXPECT_EQ(value_of(*tier_, user_key("full", "after")), "healed");
  EXPECT_EQ(value_of(*tier_, user_key("full", "first")), first);
}

}  // namespace
}  // namespace plancache::testing

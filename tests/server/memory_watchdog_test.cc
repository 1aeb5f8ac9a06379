// The memory-pressure watchdog: the hysteresis and lane-sizing decisions
// (server/memory_pressure.h) on injected readings, then MemoryWatchdog over
// real memory-tier lanes with a fake MemorySource whose "used" memory is a
// base plus what the lanes hold -- so evicting really lowers the reading.
#include "server/memory_watchdog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "plancache/memory_tier.h"
#include "server/config.h"
#include "server/memory_pressure.h"

namespace plancache::internal {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

MemoryReading at(double ratio, uint64_t limit = 1000 * kMiB) {
  return MemoryReading{.used_bytes = static_cast<uint64_t>(ratio * static_cast<double>(limit)),
                       .limit_bytes = limit};
}

TEST(PressureController, EvictsAboveTheMarkUntilUnderTheStopLevelThenGrowsBelowTheGrowLevel) {
  PressureController c(PressureOptions{});  // 0.80, stop under 0.75, grow under 0.70
  EXPECT_EQ(c.decide(at(0.50)), PressureAction::kGrow);
  EXPECT_EQ(c.decide(at(0.79)), PressureAction::kHold);
  EXPECT_EQ(c.decide(at(0.77)), PressureAction::kHold) << "no episode: the stop level is moot";
  EXPECT_EQ(c.decide(at(0.80)), PressureAction::kEvict);
  EXPECT_TRUE(c.in_episode());
  EXPECT_EQ(c.decide(at(0.77)), PressureAction::kEvict) << "hysteresis: still in the episode";
  EXPECT_EQ(c.decide(at(0.751)), PressureAction::kEvict);
  EXPECT_EQ(c.decide(at(0.74)), PressureAction::kHold) << "the episode ends, no growth yet";
  EXPECT_FALSE(c.in_episode());
  EXPECT_EQ(c.decide(at(0.77)), PressureAction::kHold);
  EXPECT_EQ(c.decide(at(0.71)), PressureAction::kHold);
  EXPECT_EQ(c.decide(at(0.69)), PressureAction::kGrow);
  EXPECT_EQ(c.decide(MemoryReading{.used_bytes = 5, .limit_bytes = 0}), PressureAction::kHold)
      << "no limit, nothing to decide";
}

TEST(PressureController, ADropFromAboveTheMarkToFarBelowEndsTheEpisodeAndGrows) {
  PressureController c(PressureOptions{.high_watermark = 0.9});
  EXPECT_EQ(c.decide(at(0.95)), PressureAction::kEvict);
  EXPECT_EQ(c.decide(at(0.10)), PressureAction::kGrow);
  EXPECT_FALSE(c.in_episode());
}

TEST(PressureSizing, AShrunkLaneKeepsWhatItHoldsAboveAFloorAndUnderItsLimit) {
  const PressureOptions o;  // floor 1/32 of the bound
  EXPECT_EQ(shrunk_limit({.bound = 320 * kMiB, .limit = 0, .bytes = 100 * kMiB}, o), 100 * kMiB);
  EXPECT_EQ(shrunk_limit({.bound = 320 * kMiB, .limit = 0, .bytes = 0}, o), 10 * kMiB)
      << "an empty lane keeps room for a few plans";
  EXPECT_EQ(shrunk_limit({.bound = 320 * kMiB, .limit = 5 * kMiB, .bytes = 0}, o), 5 * kMiB)
      << "never raised by a shrink";
  EXPECT_EQ(shrunk_limit({.bound = 100, .limit = 0, .bytes = 400}, o), 100u) << "at most the bound";
}

TEST(PressureSizing, GrowthSharesTheHeadroomInStepsUpToTheBound) {
  const PressureOptions o;  // steps of 10 % of the bound
  const std::vector<LaneSize> lanes = {
      {.bound = 1000 * kMiB, .limit = 100 * kMiB, .bytes = 0},  // shrunk far
      {.bound = 1000 * kMiB, .limit = 0, .bytes = 0},           // not shrunk
      {.bound = 100 * kMiB, .limit = 95 * kMiB, .bytes = 0},    // nearly back
  };
  // 60 MiB of headroom over two shrunken lanes: 30 each, the step allows
  // 100 and 10; the third reaches its bound and loses its limit.
  EXPECT_EQ(grown_limits(lanes, 60 * kMiB, o), (std::vector<uint64_t>{130 * kMiB, 0, 0}));
  // Plenty of headroom: capped by the step.
  EXPECT_EQ(grown_limits(lanes, 10'000 * kMiB, o), (std::vector<uint64_t>{200 * kMiB, 0, 0}));
  EXPECT_EQ(grown_limits(lanes, 0, o), (std::vector<uint64_t>{100 * kMiB, 0, 95 * kMiB}));
  EXPECT_EQ(grow_headroom(at(0.5), o), 200 * kMiB);  // (0.70 - 0.5) x 1000 MiB
  EXPECT_EQ(grow_headroom(at(0.72), o), 0u);
}

// Used memory = base + the lanes' bytes (what the cache really adds).
class ModelSource final : public MemorySource {
 public:
  ModelSource(std::vector<Tier*> lanes, uint64_t limit) : lanes_(std::move(lanes)), limit_(limit) {}
  std::string_view name() const override { return "model"; }
  const std::string& path() const override { return path_; }
  Result<MemoryReading> read() const override {
    if (fail) return Status::unavailable("cannot read /fake/memory.current");
    uint64_t used = base;
    for (Tier* t : lanes_) used += t->stats().bytes;
    return MemoryReading{.used_bytes = used, .limit_bytes = limit_};
  }
  std::atomic<uint64_t> base{0};
  std::atomic<bool> fail{false};

 private:
  const std::vector<Tier*> lanes_;
  const uint64_t limit_;
  const std::string path_ = "/fake";
};

class WatchdogTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kLimit = 100 * kMiB;

  void SetUp() override {
    for (const char* name : {"default", "docs"}) {
      MemoryTierOptions o;
      o.max_entries = 0;
      o.max_bytes = 200 * kMiB;  // both bigger than the whole limit
      o.shards = 4;
      o.name = name;
      tiers_.push_back(std::move(new_memory_tier(o)).value());
      lanes_.push_back(PressureLane{.name = name, .tier = tiers_.back().get()});
    }
    auto source =
        std::make_unique<ModelSource>(std::vector<Tier*>{lanes_[0].tier, lanes_[1].tier}, kLimit);
    source_ = source.get();
    source_->base = 10 * kMiB;
    MemoryWatchdogOptions options;
    options.release_memory = [this] { ++releases_; };
    watchdog_ = std::make_unique<MemoryWatchdog>(std::move(source), lanes_, std::move(options));
  }

  // Puts `n` values of 64 KiB into lane `lane`, keys from `first`.
  void fill(size_t lane, uint64_t first, uint64_t n) {
    Tier& tier = *lanes_[lane].tier;
    for (uint64_t i = first; i < first + n; ++i) {
      auto value = std::make_shared<const Bytes>(64 << 10, 'p');
      ASSERT_TRUE(tier.put(key(lane, i), make_entry(value, 0, 0)).is_ok());
    }
  }
  bool has(size_t lane, uint64_t i) {
    auto r = lanes_[lane].tier->get(key(lane, i));
    return r.is_ok() && *r != nullptr;
  }
  CacheKey key(size_t lane, uint64_t i) const {
    return CacheKey(lanes_[lane].name, KeyKind::kUser, "k" + std::to_string(i));
  }
  double ratio() const { return source_->read()->ratio(); }
  uint64_t bytes(size_t lane) const { return lanes_[lane].tier->stats().bytes; }

  std::vector<std::unique_ptr<Tier>> tiers_;
  std::vector<PressureLane> lanes_;
  ModelSource* source_ = nullptr;
  int releases_ = 0;
  std::unique_ptr<MemoryWatchdog> watchdog_;
};

TEST_F(WatchdogTest, UnderTheMarkNothingHappens) {
  fill(0, 0, 500);  // ~31 MiB + 10 base: 41 %
  watchdog_->check_once();
  const MemoryPressureStats s = watchdog_->stats();
  EXPECT_EQ(s.triggered, 0u);
  EXPECT_EQ(s.checks, 1u);
  EXPECT_EQ(s.reading.used_bytes, source_->read()->used_bytes);
  EXPECT_DOUBLE_EQ(s.shrink_factor(), 1.0);
  EXPECT_EQ(releases_, 0);
}

TEST_F(WatchdogTest, AboveTheMarkEveryLaneGivesUpItsColdestEntriesUntilUnderTheStopLevel) {
  fill(1, 0, 300);   // docs: ~19 MiB
  fill(0, 0, 1100);  // default: ~69 MiB; with the base ~98 %
  for (uint64_t i = 1000; i < 1100; ++i) ASSERT_TRUE(has(0, i));  // the newest, read again
  ASSERT_GT(ratio(), 0.95);
  const uint64_t before = bytes(0) + bytes(1);

  watchdog_->check_once();
  const MemoryPressureStats s = watchdog_->stats();
  EXPECT_LT(ratio(), 0.75) << "rounds repeat within one check until under the stop level";
  EXPECT_EQ(s.triggered, 1u);
  EXPECT_GE(s.rounds, 2u) << "one round of 20 % is not enough from 98 %";
  EXPECT_EQ(s.bytes_freed, before - bytes(0) - bytes(1));
  EXPECT_GT(s.entries_freed, 0u);
  EXPECT_EQ(releases_, static_cast<int>(s.rounds));
  EXPECT_FALSE(s.under_pressure);
  EXPECT_LT(bytes(1), 19 * kMiB) << "every lane gave some up";
  EXPECT_TRUE(has(0, 1099)) << "recent, hot entries stay";
  EXPECT_FALSE(has(0, 0)) << "the coldest went";
  EXPECT_LT(s.shrink_factor(), 0.5);
  for (const auto& lane : s.lanes) EXPECT_NE(lane.limit, 0u) << lane.name;

  // The lanes stay limited: filling on evicts within the lane.
  fill(0, 5000, 1000);
  EXPECT_LT(ratio(), 0.75);
  EXPECT_TRUE(has(0, 5999));
}

TEST_F(WatchdogTest, MemoryThatIsNotL1sStopsAfterOneRound) {
  source_->base = 90 * kMiB;  // nothing in the lanes
  watchdog_->check_once();
  const MemoryPressureStats s = watchdog_->stats();
  EXPECT_EQ(s.triggered, 1u);
  EXPECT_EQ(s.rounds, 1u) << "nothing was freed: no point in more rounds";
  EXPECT_EQ(s.entries_freed, 0u);
  EXPECT_TRUE(s.under_pressure);
}

TEST_F(WatchdogTest, BetweenTheStopLevelAndTheMarkNoEpisodeStarts) {
  fill(0, 0, 1100);
  // 77 % without an episode: nothing.
  source_->base = static_cast<uint64_t>(0.77 * kLimit) - bytes(0);
  watchdog_->check_once();
  EXPECT_EQ(watchdog_->stats().triggered, 0u);
  // Over the mark, then back at 77 %: the episode evicts again.
  source_->base = source_->base + 5 * kMiB;
  watchdog_->check_once();
  EXPECT_EQ(watchdog_->stats().triggered, 1u);
  fill(0, 2000, 10);
  source_->base = static_cast<uint64_t>(0.77 * kLimit) - bytes(0);
  watchdog_->check_once();
  EXPECT_EQ(watchdog_->stats().triggered, 1u) << "the first check already went under 75 %";
}

TEST_F(WatchdogTest, LanesGrowBackInStepsOnceMemoryIsBack) {
  fill(0, 0, 1400);
  watchdog_->check_once();
  ASSERT_EQ(watchdog_->stats().triggered, 1u);
  const double shrunk = watchdog_->stats().shrink_factor();
  ASSERT_LT(shrunk, 0.5);
  // Another process gave its memory back, the filling stopped: more room
  // than the lanes use.
  ASSERT_TRUE(lanes_[0].tier->invalidate(Selector{}).is_ok());
  int checks = 0;
  double last = shrunk;
  while (watchdog_->stats().shrink_factor() < 1.0 && checks < 100) {
    watchdog_->check_once();
    const double now = watchdog_->stats().shrink_factor();
    EXPECT_GE(now, last) << "growth only";
    last = now;
    ++checks;
  }
  EXPECT_DOUBLE_EQ(watchdog_->stats().shrink_factor(), 1.0);
  EXPECT_GE(checks, 5) << "in steps, not at once";
  for (const auto& lane : watchdog_->stats().lanes) EXPECT_EQ(lane.limit, 0u) << lane.name;
  fill(0, 10'000, 1000);  // ~63 MiB: the lane takes it all again (the check is not run)
  EXPECT_GT(bytes(0), 60 * kMiB);
}

TEST_F(WatchdogTest, AFailedReadingIsCountedAndChangesNothing) {
  fill(0, 0, 1400);
  source_->fail = true;
  watchdog_->check_once();
  EXPECT_EQ(watchdog_->stats().read_errors, 1u);
  EXPECT_EQ(watchdog_->stats().triggered, 0u);
  source_->fail = false;
  watchdog_->check_once();
  EXPECT_EQ(watchdog_->stats().triggered, 1u);
}

TEST_F(WatchdogTest, StatsRenderAsJsonAndPrometheus) {
  fill(0, 0, 1400);
  watchdog_->check_once();
  const MemoryPressureStats s = watchdog_->stats();
  const nlohmann::json j = memory_stats_json(&s);
  EXPECT_EQ(j["source"], "model");
  EXPECT_EQ(j["limit_bytes"], kLimit);
  EXPECT_EQ(j["pressure_triggered_count"], 1);
  EXPECT_GT(j["pressure_bytes_freed"].get<uint64_t>(), 0u);
  EXPECT_EQ(j["lanes"]["docs"]["max_bytes"], 200 * kMiB);
  EXPECT_LT(j["shrink_factor"].get<double>(), 1.0);
  EXPECT_EQ(memory_stats_json(nullptr), nlohmann::json({{"source", "off"}}));

  const std::string text = memory_stats_prometheus(&s);
  EXPECT_NE(text.find("# TYPE plancache_pressure_triggered_total counter\n"
                      "plancache_pressure_triggered_total 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("plancache_pressure_freed_bytes_total " + std::to_string(s.bytes_freed)),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("plancache_memory_limit_bytes 104857600\n"), std::string::npos) << text;
  const std::string off = memory_stats_prometheus(nullptr);
  EXPECT_NE(off.find("plancache_pressure_triggered_total 0\n"), std::string::npos) << off;
  EXPECT_EQ(off.find("plancache_memory_used_bytes"), std::string::npos) << off;
}

// The five settings: a flag, a PLANCACHE_* variable and a TOML key each
// (the settings table), validated with the source named.
TEST(MemoryPressureConfig, FlagsVariablesAndTomlKeys) {
  std::map<std::string, std::string> vars;
  const plancache::server::EnvLookup env =
      [&vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  auto c = plancache::server::resolve_server_config({}, env);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->memory_source, "auto");
  EXPECT_EQ(c->memory_budget, 0u);
  EXPECT_DOUBLE_EQ(c->memory_high_watermark, 0.80);
  EXPECT_DOUBLE_EQ(c->pressure_evict_fraction, 0.20);
  EXPECT_EQ(c->memory_check_interval_ms, 500u);

  const auto toml = std::filesystem::temp_directory_path() / "plancache_memory_pressure.toml";
  std::ofstream(toml) << "memory_source = \"cgroup-v1\"\nmemory-budget = 1073741824\n";
  vars["PLANCACHE_MEMORY_HIGH_WATERMARK"] = "0.9";
  plancache::server::ServeFlags flags;
  flags.config_path = toml.string();
  flags.pressure_evict_fraction = "0.5";
  flags.memory_check_interval_ms = "50";
  c = plancache::server::resolve_server_config(flags, env);
  std::filesystem::remove(toml);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->memory_source, "cgroup-v1");
  EXPECT_EQ(c->memory_budget, 1u << 30);
  EXPECT_DOUBLE_EQ(c->memory_high_watermark, 0.9);
  EXPECT_DOUBLE_EQ(c->pressure_evict_fraction, 0.5);
  EXPECT_EQ(c->memory_check_interval_ms, 50u);

  const auto error = [&](plancache::server::ServeFlags f) {
    auto r = plancache::server::resolve_server_config(f, env);
    return r.is_ok() ? std::string("accepted") : r.status().message();
  };
  plancache::server::ServeFlags bad;
  bad.memory_high_watermark = "1.5";
  EXPECT_EQ(error(bad), "--memory-high-watermark: expected a share in [0.2, 0.99], got '1.5'");
  bad = {};
  bad.pressure_evict_fraction = "0";
  EXPECT_EQ(error(bad), "--pressure-evict-fraction: expected a share in (0, 1], got '0'");
  bad = {};
  bad.memory_source = "cgroup";
  EXPECT_NE(error(bad).find("--memory-source: unknown memory source 'cgroup'"), std::string::npos);
  bad = {};
  bad.memory_check_interval_ms = "5";
  EXPECT_NE(error(bad).find("--memory-check-interval-ms"), std::string::npos);
}

}  // namespace
}  // namespace plancache::internal

// The memory-pressure watchdog's loop (memory_watchdog.h).
//
// The goal of a check is to bring memory back under the stop level, not to
// size the cache exactly: each round takes the same share of every lane (a
// lane holding most of the memory gives up most bytes) and then caps each
// lane at what it holds, so what the filling client adds next evicts within
// its lane instead of growing the process. Rounds stop as soon as a reading
// is under the stop level, when nothing was freed (the memory is not L1's),
// or after max_rounds; the next check continues if it must.
//
// Only the watchdog's thread touches the lanes' limits and the controller;
// stats() reads a snapshot published under mu_ at the end of each check, so
// an I/O thread answering /v1/stats never waits for an eviction.
#include "server/memory_watchdog.h"

#include <algorithm>
#include <cstdio>

#include "server/event_bus.h"

namespace plancache::internal {

double MemoryPressureStats::shrink_factor() const {
  double bound = 0, in_force = 0;
  for (const Lane& lane : lanes) {
    bound += static_cast<double>(lane.bound);
    in_force +=
        static_cast<double>(lane.limit == 0 ? lane.bound : std::min(lane.limit, lane.bound));
  }
  return bound == 0 ? 1.0 : in_force / bound;
}

MemoryWatchdog::MemoryWatchdog(std::unique_ptr<MemorySource> source,
                               std::vector<PressureLane> lanes, MemoryWatchdogOptions options)
    : source_(std::move(source)), options_(std::move(options)), controller_(options_.pressure) {
  for (PressureLane& lane : lanes) {
    const uint64_t bound = lane.tier->stats().max_bytes;
    lanes_.push_back(LaneState{.lane = std::move(lane), .bound = bound, .limit = 0});
  }
  snapshot_.source = std::string(source_->name());
  snapshot_.source_path = source_->path();
  snapshot_.high_watermark = options_.pressure.high_watermark;
  snapshot_.evict_fraction = options_.pressure.evict_fraction;
  for (const LaneState& l : lanes_) snapshot_.lanes.push_back({l.lane.name, l.bound, 0});
}

MemoryWatchdog::~MemoryWatchdog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MemoryWatchdog::start() {
  auto first = source_->read();
  if (options_.logger && first.is_ok()) {
    options_.logger->info(
        "memory watchdog: {} ({}), {} of {} bytes used; evicting {:.0f}% of every L1 lane at "
        "{:.0f}% and above, checked every {} ms",
        source_->name(), source_->path(), first->used_bytes, first->limit_bytes,
        options_.pressure.evict_fraction * 100, options_.pressure.high_watermark * 100,
        options_.interval.count());
  } else if (!first.is_ok()) {
    note_read_error(first.status());
  }
  thread_ = std::thread([this] { run(); });
}

void MemoryWatchdog::run() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, options_.interval, [this] { return stop_; })) {
    lock.unlock();
    check_once();
    lock.lock();
  }
}

void MemoryWatchdog::check_once() {
  auto reading = source_->read();
  if (!reading.is_ok()) {
    note_read_error(reading.status());
    return;
  }
  if (reading_failed_ && options_.logger) {
    options_.logger->info("memory watchdog: {} readable again", source_->path());
  }
  reading_failed_ = false;
  switch (controller_.decide(*reading)) {
    case PressureAction::kEvict:
      relieve(*reading);
      return;
    case PressureAction::kGrow:
      grow(*reading);
      return;
    case PressureAction::kHold:
      break;
  }
  publish(*reading, Freed{}, 0);
}

uint64_t MemoryWatchdog::bound_of(const LaneState& lane, const MemoryReading& reading) const {
  // An unbounded lane is sized against the memory limit itself.
  return lane.bound != 0 ? lane.bound : std::max<uint64_t>(1, reading.limit_bytes);
}

MemoryWatchdog::Freed MemoryWatchdog::evict_round(const MemoryReading& reading) {
  // What leaves L1 here is reported as "pressure" on the event stream.
  const ScopedEvictionCause pressure(EventCause::kPressure);
  Freed freed;
  for (LaneState& l : lanes_) {
    Tier& tier = *l.lane.tier;
    const uint64_t before = tier.stats().bytes;
    Result<uint64_t> evicted = tier.evict_fraction(options_.pressure.evict_fraction);
    if (evicted.is_ok()) freed.entries += *evicted;
    const LaneSize size{
        .bound = bound_of(l, reading), .limit = l.limit, .bytes = tier.stats().bytes};
    l.limit = shrunk_limit(size, options_.pressure);
    freed.entries += tier.limit_bytes(l.limit);
    const uint64_t after = tier.stats().bytes;
    freed.bytes += before > after ? before - after : 0;
  }
  return freed;
}

void MemoryWatchdog::relieve(const MemoryReading& first) {
  MemoryReading reading = first;
  Freed total;
  int rounds = 0;
  while (rounds < options_.max_rounds) {
    const Freed freed = evict_round(reading);
    ++rounds;
    total.entries += freed.entries;
    total.bytes += freed.bytes;
    if (options_.release_memory) options_.release_memory();
    auto next = source_->read();
    if (!next.is_ok()) break;
    reading = *next;
    if (freed.entries == 0 || controller_.decide(reading) != PressureAction::kEvict) break;
  }
  publish(reading, total, rounds);
  log_trigger(first, reading, total, rounds);
}

void MemoryWatchdog::grow(const MemoryReading& reading) {
  std::vector<LaneSize> sizes;
  bool shrunk = false;
  for (const LaneState& l : lanes_) {
    sizes.push_back(LaneSize{.bound = bound_of(l, reading), .limit = l.limit, .bytes = 0});
    shrunk = shrunk || l.limit != 0;
  }
  if (shrunk) {
    const std::vector<uint64_t> limits =
        grown_limits(sizes, grow_headroom(reading, options_.pressure), options_.pressure);
    bool lifted = true;
    for (size_t i = 0; i < lanes_.size(); ++i) {
      if (limits[i] != lanes_[i].limit) lanes_[i].lane.tier->limit_bytes(limits[i]);
      lanes_[i].limit = limits[i];
      lifted = lifted && limits[i] == 0;
    }
    if (lifted && options_.logger) {
      options_.logger->info(
          "memory pressure over: every L1 lane is back to its bound ({:.0f}% used)",
          reading.ratio() * 100);
    }
  }
  publish(reading, Freed{}, 0);
}

void MemoryWatchdog::publish(const MemoryReading& reading, const Freed& freed, int rounds) {
  std::lock_guard lock(mu_);
  MemoryPressureStats& s = snapshot_;
  s.reading = reading;
  s.under_pressure = controller_.in_episode();
  ++s.checks;
  if (rounds > 0) {
    ++s.triggered;
    s.rounds += static_cast<uint64_t>(rounds);
    s.bytes_freed += freed.bytes;
    s.entries_freed += freed.entries;
  }
  for (size_t i = 0; i < lanes_.size(); ++i) {
    s.lanes[i].bound = bound_of(lanes_[i], reading);
    s.lanes[i].limit = lanes_[i].limit;
  }
}

void MemoryWatchdog::log_trigger(const MemoryReading& before, const MemoryReading& after,
                                 const Freed& freed, int rounds) const {
  if (!options_.logger) return;
  options_.logger->warn(
      "memory pressure: {} used {} of {} bytes ({:.1f}% >= {:.0f}%); evicted {} entries "
      "({} bytes) from {} L1 lanes in {} round(s), now {:.1f}%; L1 limited to {:.1f}% of its "
      "bounds",
      source_->name(), before.used_bytes, before.limit_bytes, before.ratio() * 100,
      options_.pressure.high_watermark * 100, freed.entries, freed.bytes, lanes_.size(), rounds,
      after.ratio() * 100, stats().shrink_factor() * 100);
}

void MemoryWatchdog::note_read_error(const Status& status) {
  {
    std::lock_guard lock(mu_);
    ++snapshot_.read_errors;
  }
  if (!reading_failed_ && options_.logger) {
    options_.logger->warn("memory watchdog: cannot read {}: {} (retrying every {} ms)",
                          source_->name(), status.message(), options_.interval.count());
  }
  reading_failed_ = true;
}

MemoryPressureStats MemoryWatchdog::stats() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

nlohmann::json memory_stats_json(const MemoryPressureStats* s) {
  if (s == nullptr) return {{"source", "off"}};
  nlohmann::json lanes = nlohmann::json::object();
  for (const MemoryPressureStats::Lane& lane : s->lanes) {
    lanes[lane.name] = {{"max_bytes", lane.bound}, {"limit_bytes", lane.limit}};
  }
  return {{"source", s->source},
          {"source_path", s->source_path},
          {"used_bytes", s->reading.used_bytes},
          {"limit_bytes", s->reading.limit_bytes},
          {"used_ratio", s->reading.ratio()},
          {"high_watermark", s->high_watermark},
          {"evict_fraction", s->evict_fraction},
          {"under_pressure", s->under_pressure},
          {"checks", s->checks},
          {"read_errors", s->read_errors},
          {"pressure_triggered_count", s->triggered},
          {"pressure_rounds", s->rounds},
          {"pressure_bytes_freed", s->bytes_freed},
          {"pressure_entries_freed", s->entries_freed},
          {"shrink_factor", s->shrink_factor()},
          {"lanes", std::move(lanes)}};
}

namespace {

void family(std::string& out, const char* name, const char* type, const char* help, double value) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
         name + " ";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  out += buf;
  out += "\n";
}

}  // namespace

std::string memory_stats_prometheus(const MemoryPressureStats* s) {
  const MemoryPressureStats none;
  const MemoryPressureStats& m = s != nullptr ? *s : none;
  std::string out;
  family(out, "plancache_pressure_triggered_total", "counter",
         "Memory-pressure checks that evicted from L1", static_cast<double>(m.triggered));
  family(out, "plancache_pressure_freed_bytes_total", "counter",
         "L1 bytes freed under memory pressure", static_cast<double>(m.bytes_freed));
  family(out, "plancache_pressure_freed_entries_total", "counter",
         "L1 entries freed under memory pressure", static_cast<double>(m.entries_freed));
  if (s == nullptr) return out;
  family(out, "plancache_memory_used_bytes", "gauge",
         "Memory in use, as the memory source reads it", static_cast<double>(m.reading.used_bytes));
  family(out, "plancache_memory_limit_bytes", "gauge",
         "Memory limit of the memory source (0 = none)",
         static_cast<double>(m.reading.limit_bytes));
  family(out, "plancache_pressure_shrink_factor", "gauge",
         "L1 byte limits in force over the lanes' bounds (1 = none shrunk)", m.shrink_factor());
  return out;
}

}  // namespace plancache::internal

// Replay: every simulated cache is a lane fed by one read of the trace.
//
// A request is decoded once and its CacheKey built once; each lane then
// answers hit or miss and the lane's SimResult counts it. Tier lanes are the
// real memory tier (a get, and a put on a miss), so they run exactly the code
// a server lane runs; the optimal lane is BeladyCache over the next-use table
// of the first pass, indexed by the request's position.
//
// Memory. Stored values come from a ValuePool: by entries every entry shares
// one empty value; by bytes, entries of equal size share one value, and
// values no cache holds any more are dropped when the pool doubles, so the
// pool never holds more than the simulated caches do. A request bigger than
// the largest simulated size is not stored (the tier would refuse it), so a
// huge size in a trace never allocates.
#include "sim/replay.h"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "core/hashing.h"
#include "sim/key_index.h"

namespace plancache::internal {

class ValuePool {
 public:
  // `sized`: values have the requests' sizes (by bytes), else they are empty.
  ValuePool(bool sized, uint64_t max_size)
      : sized_(sized), max_size_(max_size), empty_(std::make_shared<const Bytes>()) {}

  // A value of `size` bytes (empty when not sized); null when it is bigger
  // than any simulated cache.
  BytesPtr value(uint64_t size) {
    if (!sized_) return empty_;
    if (size > max_size_) return nullptr;
    const auto it = values_.find(size);
    if (it != values_.end()) return it->second;
    if (values_.size() >= prune_at_) prune();
    auto value = std::make_shared<const Bytes>(size, 'x');
    values_.emplace(size, value);
    return value;
  }

 private:
  static constexpr size_t kMinPrune = 1024;

  void prune() {
    std::erase_if(values_, [](const auto& kv) { return kv.second.use_count() == 1; });
    prune_at_ = std::max(kMinPrune, 2 * values_.size());
  }

  bool sized_;
  uint64_t max_size_;
  BytesPtr empty_;
  std::unordered_map<uint64_t, BytesPtr> values_;
  size_t prune_at_ = kMinPrune;
};

class SimLane {
 public:
  SimLane(SimPolicy policy, uint64_t size) {
    result_.policy = policy;
    result_.size = size;
  }
  virtual ~SimLane() = default;
  SimLane(const SimLane&) = delete;
  SimLane& operator=(const SimLane&) = delete;

  void replay(const Access& access, const CacheKey& key, uint64_t position) {
    const bool hit = lookup(access, key, position);
    ++result_.requests;
    result_.bytes_requested += access.size;
    result_.cost_ms_requested += access.cost_ms;
    if (hit) {
      ++result_.hits;
      result_.bytes_hit += access.size;
      result_.cost_ms_saved += access.cost_ms;
    }
  }
  const SimResult& result() const { return result_; }

 private:
  // True on a hit; a miss stores the request if the policy admits it.
  virtual bool lookup(const Access& access, const CacheKey& key, uint64_t position) = 0;

  SimResult result_;
};

namespace {

class TierLane final : public SimLane {
 public:
  TierLane(SimPolicy policy, uint64_t size, std::unique_ptr<Tier> tier, ValuePool& values,
           const Clock& clock)
      : SimLane(policy, size), tier_(std::move(tier)), values_(values), clock_(clock) {}

 private:
  bool lookup(const Access& access, const CacheKey& key, uint64_t) override {
    const Result<EntryPtr> cached = tier_->get(key);
    if (cached.is_ok() && *cached != nullptr) return true;
    BytesPtr value = values_.value(access.size);
    if (value != nullptr) {
      // resource_exhausted (bigger than a shard's byte budget): not cached,
      // as in the server.
      (void)tier_->put(key, make_entry(std::move(value), clock_.now_ms(), 0, access.cost_ms));
    }
    return false;
  }

  std::unique_ptr<Tier> tier_;
  ValuePool& values_;
  const Clock& clock_;
};

class OptimalLane final : public SimLane {
 public:
  OptimalLane(uint64_t size, SizeUnit by, const NextUses& next_uses)
      : SimLane(SimPolicy::kOptimal, size), by_(by), next_uses_(next_uses), cache_(size) {}

 private:
  bool lookup(const Access& access, const CacheKey&, uint64_t position) override {
    const uint64_t charge = by_ == SizeUnit::kEntries ? 1 : charged_bytes(access);
    return cache_.access(position, next_uses_[position], charge);
  }

  SizeUnit by_;
  const NextUses& next_uses_;
  BeladyCache cache_;
};

bool in_default_namespace(const Access& access) {
  return access.ns.empty() || access.ns == kSimNamespace;
}

size_t decimal_digits(uint64_t value) {
  char digits[24];
  return static_cast<size_t>(std::to_chars(digits, digits + sizeof digits, value).ptr - digits);
}

// EvictionPolicy::kCost, once the memory tier has it (detected at compile
// time, so this file needs no change when it lands).
template <typename Policy>
constexpr std::optional<Policy> cost_policy() {
  if constexpr (requires { Policy::kCost; }) {
    return Policy::kCost;
  } else {
    return std::nullopt;
  }
}

}  // namespace

// --- names ---------------------------------------------------------------------

std::string_view sim_policy_name(SimPolicy policy) {
  switch (policy) {
    case SimPolicy::kLru:
      return "lru";
    case SimPolicy::kTinyLfu:
      return "tinylfu";
    case SimPolicy::kCost:
      return "cost";
    case SimPolicy::kOptimal:
      return "optimal";
  }
  return "?";
}

Result<SimPolicy> parse_sim_policy(std::string_view name) {
  for (SimPolicy p :
       {SimPolicy::kLru, SimPolicy::kTinyLfu, SimPolicy::kCost, SimPolicy::kOptimal}) {
    if (name != sim_policy_name(p)) continue;
    if (p == SimPolicy::kCost && !tier_policy(p)) {
      return Status::invalid_argument(
          "policy 'cost' is not available yet: the memory tier has no cost-aware eviction "
          "policy in this build");
    }
    return p;
  }
  return Status::invalid_argument("unknown policy '" + std::string(name) +
                                  "' (expected lru, tinylfu, cost or optimal)");
}

std::optional<EvictionPolicy> tier_policy(SimPolicy policy) {
  switch (policy) {
    case SimPolicy::kLru:
      return EvictionPolicy::kLru;
    case SimPolicy::kTinyLfu:
      return EvictionPolicy::kTinyLfu;
    case SimPolicy::kCost:
      return cost_policy<EvictionPolicy>();
    case SimPolicy::kOptimal:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string_view size_unit_name(SizeUnit unit) {
  return unit == SizeUnit::kEntries ? "entries" : "bytes";
}

// --- keys ----------------------------------------------------------------------

uint64_t access_identity(const Access& access) {
  if (in_default_namespace(access)) return access.key;
  std::string bytes = access.ns;
  bytes.push_back('\0');
  bytes += std::to_string(access.key);
  return xxh3_64(bytes);
}

CacheKey access_cache_key(const Access& access) {
  return CacheKey(in_default_namespace(access) ? kSimNamespace : std::string_view(access.ns),
                  KeyKind::kUser, std::to_string(access.key));
}

uint64_t entry_overhead_bytes() {
  static const uint64_t overhead = [] {
    Entry entry;
    entry.value = std::make_shared<const Bytes>();
    return static_cast<uint64_t>(entry.charge());
  }();
  return overhead;
}

uint64_t charged_bytes(const Access& access) {
  const size_t ns = in_default_namespace(access) ? kSimNamespace.size() : access.ns.size();
  // The key's bytes: "<ns>\0<kind><id>" (CacheKey::encoded()).
  return entry_overhead_bytes() + access.size + ns + 2 + decimal_digits(access.key);
}

// --- Replayer --------------------------------------------------------------------

Replayer::Replayer(const NextUses* next_uses)
    : next_uses_(next_uses), clock_(std::make_shared<FakeClock>()) {}

Replayer::~Replayer() = default;

Status Replayer::add_lane(SimPolicy policy, uint64_t size, const ReplayOptions& options) {
  if (policy == SimPolicy::kOptimal) {
    if (next_uses_ == nullptr) {
      return Status::invalid_argument("policy optimal needs the trace's next-use table");
    }
    lanes_.push_back(std::make_unique<OptimalLane>(size, options.by, *next_uses_));
    return Status::ok();
  }
  const std::optional<EvictionPolicy> tier = tier_policy(policy);
  if (!tier) {
    return Status::invalid_argument("policy '" + std::string(sim_policy_name(policy)) +
                                    "' is not available in this build");
  }
  MemoryTierOptions o;
  o.max_entries = options.by == SizeUnit::kEntries ? size : 0;
  o.max_bytes = options.by == SizeUnit::kBytes ? size : 0;
  o.shards = options.shards;
  o.policy = *tier;
  o.clock = clock_;
  o.name = "sim";
  Result<std::unique_ptr<Tier>> made = new_memory_tier(std::move(o));
  if (!made.is_ok()) {
    return Status::invalid_argument(std::string(sim_policy_name(policy)) + " at size " +
                                    std::to_string(size) + ": " + made.status().message());
  }
  lanes_.push_back(
      std::make_unique<TierLane>(policy, size, std::move(made).value(), *values_, *clock_));
  return Status::ok();
}

Result<std::unique_ptr<Replayer>> Replayer::create(const ReplayOptions& options,
                                                   const NextUses* next_uses) {
  if (options.policies.empty()) return Status::invalid_argument("no policy to replay");
  if (options.sizes.empty()) return Status::invalid_argument("no size to replay");
  std::vector<uint64_t> sizes = options.sizes;
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  if (sizes.front() == 0) return Status::invalid_argument("sizes must be at least 1");
  std::unique_ptr<Replayer> replayer(new Replayer(next_uses));
  replayer->values_ = std::make_unique<ValuePool>(options.by == SizeUnit::kBytes, sizes.back());
  std::vector<SimPolicy> policies = options.policies;
  for (size_t i = 0; i < policies.size(); ++i) {
    if (std::find(policies.begin(), policies.begin() + static_cast<ptrdiff_t>(i), policies[i]) !=
        policies.begin() + static_cast<ptrdiff_t>(i)) {
      continue;  // listed twice
    }
    for (uint64_t size : sizes) {
      PLANCACHE_RETURN_IF_ERROR(replayer->add_lane(policies[i], size, options));
    }
  }
  return replayer;
}

Status Replayer::access(const Access& access) {
  if (next_uses_ != nullptr && position_ >= next_uses_->size()) {
    return Status::failed_precondition("the trace has more requests than its first pass counted (" +
                                       std::to_string(next_uses_->size()) +
                                       "): did the file change?");
  }
  const CacheKey key = access_cache_key(access);
  for (const auto& lane : lanes_) lane->replay(access, key, position_);
  ++position_;
  return Status::ok();
}

std::vector<SimResult> Replayer::results() const {
  std::vector<SimResult> out;
  out.reserve(lanes_.size());
  for (const auto& lane : lanes_) out.push_back(lane->result());
  return out;
}

// --- passes ------------------------------------------------------------------------

namespace {

constexpr uint64_t kProgressEvery = 1 << 14;

void report_progress(const ProgressFn& progress, const TraceReader& reader, uint64_t requests) {
  if (progress) progress(reader.bytes_read(), reader.total_bytes(), requests);
}

}  // namespace

Result<TraceScan> scan_trace(const std::string& path, TraceFormat format, bool with_next_uses,
                             const ProgressFn& progress) {
  Result<std::unique_ptr<TraceReader>> reader = open_trace(path, format);
  if (!reader.is_ok()) return reader.status();
  TraceScan scan;
  scan.format = (*reader)->format();
  KeyIndex last_seen;  // identity -> position of its latest request
  Access access;
  for (;;) {
    Result<bool> more = (*reader)->next(&access);
    if (!more.is_ok()) return more.status();
    if (!*more) break;
    const uint64_t position = scan.requests++;
    const uint64_t previous = last_seen.put(access_identity(access), position);
    if (previous == KeyIndex::kAbsent) scan.unique_bytes += charged_bytes(access);
    if (with_next_uses) {
      scan.next_uses.push_back(NextUses::kNever);
      if (previous != KeyIndex::kAbsent) scan.next_uses[previous] = position;
    }
    scan.has_costs = scan.has_costs || access.cost_ms > 0;
    if (position % kProgressEvery == 0) report_progress(progress, **reader, scan.requests);
  }
  scan.unique_keys = last_seen.size();
  report_progress(progress, **reader, scan.requests);
  return scan;
}

Result<ReplayRun> replay_trace(const std::string& path, TraceFormat format,
                               const ReplayOptions& options, const NextUses* next_uses,
                               bool count_unique_keys, const ProgressFn& progress) {
  Result<std::unique_ptr<Replayer>> replayer = Replayer::create(options, next_uses);
  if (!replayer.is_ok()) return replayer.status();
  Result<std::unique_ptr<TraceReader>> reader = open_trace(path, format);
  if (!reader.is_ok()) return reader.status();
  ReplayRun run;
  run.format = (*reader)->format();
  KeyIndex seen;
  Access access;
  for (;;) {
    Result<bool> more = (*reader)->next(&access);
    if (!more.is_ok()) return more.status();
    if (!*more) break;
    PLANCACHE_RETURN_IF_ERROR((*replayer)->access(access));
    if (count_unique_keys) seen.put(access_identity(access), 0);
    run.has_costs = run.has_costs || access.cost_ms > 0;
    if (++run.requests % kProgressEvery == 0) report_progress(progress, **reader, run.requests);
  }
  if (next_uses != nullptr && run.requests != next_uses->size()) {
    return Status::failed_precondition(
        "the trace has fewer requests than its first pass counted (" +
        std::to_string(next_uses->size()) + "): did the file change?");
  }
  report_progress(progress, **reader, run.requests);
  run.unique_keys = count_unique_keys ? seen.size() : 0;
  run.results = (*replayer)->results();
  return run;
}

}  // namespace plancache::internal

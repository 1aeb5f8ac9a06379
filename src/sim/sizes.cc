#include "sim/sizes.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace plancache::internal {
namespace {

struct Suffix {
  std::string_view name;
  uint64_t factor;
};

constexpr std::array<Suffix, 6> kSuffixes = {{
    {"kib", uint64_t{1} << 10},
    {"mib", uint64_t{1} << 20},
    {"gib", uint64_t{1} << 30},
    {"k", 1'000},
    {"m", 1'000'000},
    {"g", 1'000'000'000},
}};

Result<uint64_t> parse_one(std::string_view item) {
  const auto bad = [&](std::string_view why) {
    return Status::invalid_argument("size '" + std::string(item) + "' " + std::string(why));
  };
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
  if (ec != std::errc() || end == item.data()) {
    return bad("is not a positive integer (e.g. 1000, 10k, 64MiB)");
  }
  std::string suffix(end, item.data() + item.size());
  std::transform(suffix.begin(), suffix.end(), suffix.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  uint64_t factor = 1;
  if (!suffix.empty()) {
    const auto it = std::find_if(kSuffixes.begin(), kSuffixes.end(),
                                 [&](const Suffix& s) { return s.name == suffix; });
    if (it == kSuffixes.end()) return bad("has an unknown suffix (k, M, G, KiB, MiB, GiB)");
    factor = it->factor;
  }
  if (value == 0) return bad("must be at least 1");
  if (value > std::numeric_limits<uint64_t>::max() / factor) return bad("is too large");
  return value * factor;
}

}  // namespace

Result<std::vector<uint64_t>> parse_sizes(std::string_view text) {
  std::vector<uint64_t> sizes;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    std::string_view item = text.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) return Status::invalid_argument("empty size in '" + std::string(text) + "'");
    Result<uint64_t> size = parse_one(item);
    if (!size.is_ok()) return size.status();
    sizes.push_back(*size);
    pos = comma + 1;
  }
  return sizes;
}

std::vector<uint64_t> size_ladder(uint64_t universe, int steps) {
  const uint64_t hi = std::max<uint64_t>(1, universe);
  const uint64_t lo = std::max<uint64_t>(1, universe / 1000);
  std::vector<uint64_t> sizes;
  const double ratio = static_cast<double>(hi) / static_cast<double>(lo);
  for (int i = 0; i < steps; ++i) {
    const double t = steps == 1 ? 1.0 : static_cast<double>(i) / (steps - 1);
    const double size = static_cast<double>(lo) * std::pow(ratio, t);
    sizes.push_back(std::clamp<uint64_t>(static_cast<uint64_t>(std::llround(size)), lo, hi));
  }
  sizes.back() = hi;
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

double hit_rate(const SimResult& r) {
  return r.requests == 0 ? 0.0 : static_cast<double>(r.hits) / static_cast<double>(r.requests);
}

double byte_hit_rate(const SimResult& r) {
  return r.bytes_requested == 0
             ? 0.0
             : static_cast<double>(r.bytes_hit) / static_cast<double>(r.bytes_requested);
}

std::optional<Knee> find_knee(const std::vector<SimResult>& results, SimPolicy policy) {
  std::vector<const SimResult*> curve;
  for (const SimResult& r : results) {
    if (r.policy == policy) curve.push_back(&r);
  }
  if (curve.empty()) return std::nullopt;
  std::sort(curve.begin(), curve.end(),
            [](const SimResult* a, const SimResult* b) { return a->size < b->size; });
  double best = 0;
  for (const SimResult* r : curve) best = std::max(best, hit_rate(*r));
  if (best <= 0) return std::nullopt;
  for (const SimResult* r : curve) {
    if (hit_rate(*r) >= kKneeShare * best) {
      return Knee{
          .policy = policy, .size = r->size, .hit_rate = hit_rate(*r), .best_hit_rate = best};
    }
  }
  return std::nullopt;  // unreachable: the best one qualifies
}

}  // namespace plancache::internal

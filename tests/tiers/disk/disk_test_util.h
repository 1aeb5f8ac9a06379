// Helpers shared by the disk tier tests: a temporary directory under /tmp
// removed at the end, and a way to open a DiskTier with its test hooks.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "plancache/disk_tier.h"
#include "support/temp_dir.h"
#include "tiers/disk/disk_tier_impl.h"

namespace plancache::testing {

inline BytesPtr bytes(std::string s) { return std::make_shared<const Bytes>(std::move(s)); }

inline CacheKey user_key(std::string_view ns, std::string_view id) {
  return CacheKey(ns, KeyKind::kUser, id);
}

inline CacheKey plan_key(std::string_view ns, std::string_view id) {
  return CacheKey(ns, KeyKind::kPlan, id);
}

// Selectors for invalidate(); an empty `ns` leaves the namespace unset.
inline Selector by_tag(std::string tag, std::string ns = "") {
  Selector s;
  s.tag = std::move(tag);
  if (!ns.empty()) s.ns = std::move(ns);
  return s;
}
inline Selector by_ns(std::string ns) {
  Selector s;
  s.ns = std::move(ns);
  return s;
}
inline Selector by_prefix(std::string prefix, std::string ns = "") {
  Selector s;
  s.prefix = std::move(prefix);
  if (!ns.empty()) s.ns = std::move(ns);
  return s;
}
inline Selector by_pattern(std::string pattern, std::string ns = "") {
  Selector s;
  s.pattern = std::move(pattern);
  if (!ns.empty()) s.ns = std::move(ns);
  return s;
}
inline Selector created_before(int64_t ms, std::string ns = "") {
  Selector s;
  s.created_before_ms = ms;
  if (!ns.empty()) s.ns = std::move(ns);
  return s;
}

// Opens a DiskTier (the concrete type, for its hooks); fails the test on error.
inline std::unique_ptr<internal::DiskTier> open_disk(DiskTierOptions options) {
  auto r = internal::DiskTier::open(std::move(options));
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? std::move(r).value() : nullptr;
}

// The value stored under `key`, or "" on a miss; fails the test on an error.
inline std::string value_of(Tier& tier, const CacheKey& key) {
  auto r = tier.get(key);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  if (!r.is_ok() || *r == nullptr) return "";
  return *(*r)->value;
}

}  // namespace plancache::testing

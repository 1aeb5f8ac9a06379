// The names of the shared tier's Redis keys (documented in
// docs/entry_format.md, "Shared tier"). One hash tag per entry, so an entry
// and its lease share a slot and a namespace spreads over the cluster:
//   <p>:e:{<16 hex of CacheKey::hash>}:<ns>:<kind>:<id>   the entry
//   <p>:l:{<16 hex>}:<ns>:<kind>:<id>                     its lease
//   <p>:m:{<ns>}:g  /  <p>:m:{<ns>}:l                     a namespace's generation / predicate log
//   <p>:m:{*}:g     /  <p>:m:{*}:l                        the global ones
// Thread-safety: plain functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "plancache/entry.h"

namespace plancache::internal {

inline constexpr std::string_view kGlobalMeta = "*";

class RedisKeys {
 public:
  explicit RedisKeys(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string entry(const CacheKey& key) const { return name('e', key); }
  std::string lease(const CacheKey& key) const { return name('l', key); }
  // `ns` = kGlobalMeta for the global ones.
  std::string generation(std::string_view ns) const { return meta(ns, 'g'); }
  std::string log(std::string_view ns) const { return meta(ns, 'l'); }
  // The tracked prefixes (CLIENT TRACKING BCAST PREFIX ...).
  std::string tracked_prefix() const { return prefix_ + ":"; }

  // What a tracked key name is.
  struct Parsed {
    enum class Kind { kEntry, kLease, kMeta, kOther } kind = Kind::kOther;
    std::optional<CacheKey> key;  // kEntry, kLease
    std::string ns;               // kMeta (kGlobalMeta for the global ones)
  };
  Parsed parse(std::string_view name) const;

 private:
  std::string name(char kind, const CacheKey& key) const;
  std::string meta(std::string_view ns, char which) const;
  std::string prefix_;
};

}  // namespace plancache::internal

// The records the disk tier keeps in RocksDB besides the envelopes, and the
// byte form of their keys. One column family per kind of record:
//
//   entries   <encoded key>                   -> entry envelope (entry_codec)
//   meta      <encoded key>                   -> MetaRecord (below)
//   lru       be64(stamp) <encoded key>       -> ""   (access order, oldest first)
//   ttl       be64(expires_ms) <encoded key>  -> ""   (expiry order, soonest first)
//   tags      <tag> \0 <encoded key>          -> ""   (tag index)
//   counters  'e' <ns> | 'b' <ns>             -> fixed64 LE, uint64add merges
//
// An encoded key is "<ns>\0<kind><id>" (CacheKey::encoded()); big-endian
// stamps and expiry times make byte order equal numeric order.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plancache::internal {

// The small per-key record that every index operation reads instead of the
// (possibly large) envelope: where the key sits in the lru and ttl indexes,
// its tags, and how many bytes it is charged.
struct MetaRecord {
  uint64_t stamp = 0;      // position in the lru index
  uint64_t charge = 0;     // bytes counted against max_bytes
  int64_t created_ms = 0;  // copies of the entry's metadata, so that a
  int64_t expires_ms = 0;  // selector can be matched without the envelope
  std::vector<std::string> tags;

  bool expired_at(int64_t now_ms) const { return expires_ms != 0 && now_ms >= expires_ms; }
};

// Format: u8 version(1) | u64 stamp | u64 charge | i64 created | i64 expires |
// u32 ntags | ntags × (u32 len | bytes), all little-endian.
std::string encode_meta(const MetaRecord& meta);
// nullopt when `bytes` is not a well-formed meta record.
std::optional<MetaRecord> decode_meta(std::string_view bytes);

// Big-endian 8 bytes, so that byte order is numeric order.
void append_be64(std::string* out, uint64_t v);
uint64_t read_be64(std::string_view bytes);  // REQUIRES: bytes.size() >= 8

// be64(order) + encoded key: the key of an lru or ttl index record.
std::string order_key(uint64_t order, std::string_view encoded_key);
// tag \0 encoded key: the key of a tag index record.
std::string tag_key(std::string_view tag, std::string_view encoded_key);

// Counter keys of one namespace.
std::string entries_counter_key(std::string_view ns);
std::string bytes_counter_key(std::string_view ns);
// The little-endian fixed64 operand of RocksDB's uint64add merge operator; a
// negative delta wraps (two's complement), which the operator sums correctly.
std::string counter_operand(int64_t delta);
// nullopt when `bytes` is not 8 bytes.
std::optional<uint64_t> decode_counter(std::string_view bytes);

// The literal bytes a glob pattern must start with (up to its first `*`,
// `?`, `[` or `\`): the narrowest key range a pattern can match.
std::string_view glob_literal_prefix(std::string_view pattern);

// Smallest key greater than every key that starts with `prefix`; "" when
// there is none (prefix is all 0xff), meaning "no upper bound".
std::string prefix_successor(std::string_view prefix);

}  // namespace plancache::internal

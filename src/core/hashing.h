// Hash functions used by the key builder and the entry codec.
//
// sha256_hex: SHA-256 through OpenSSL's EVP interface, 64 lowercase hex chars.
// xxh3_128_hex: XXH3-128 (seed 0) in xxHash's canonical big-endian byte
// order, 32 lowercase hex chars. xxh3_64: XXH3-64 with seed 0.
// entry_checksum: the checksum of an entry envelope (docs/entry_format.md).
//
// Thread-safety: pure functions; safe to call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace plancache::internal {

std::string sha256_hex(std::string_view data);
std::string xxh3_128_hex(std::string_view data);
uint64_t xxh3_64(std::string_view data);

// Checksum stored at the end of an entry envelope: XXH3-64, seed 0, over
// every byte before it. A function of its own so the format names one thing.
inline uint64_t entry_checksum(std::string_view data) { return xxh3_64(data); }

// Lowercase hex of `size` bytes.
std::string hex_encode(const unsigned char* data, size_t size);

}  // namespace plancache::internal

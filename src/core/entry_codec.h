// The entry envelope: the one binary form of a (key, entry) pair that every
// tier stores (docs/entry_format.md specifies it byte by byte).
//
// Versioned, little-endian, checksummed (XXH3-64 over every byte before the
// checksum); the value is zstd-compressed when it is at least
// `compress_threshold` bytes and compression makes it smaller. It holds plain
// data only: never executable or language-specific objects.
//
// Decoding never trusts its input: truncated, corrupt or hostile bytes give
// an error, never a crash, an over-read or an allocation larger than
// kMaxEntryValueBytes (a zip bomb is stopped before it is inflated).
//
// Thread-safety: free functions, safe to call concurrently (each thread keeps
// its own zstd contexts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "plancache/entry.h"
#include "plancache/status.h"

namespace plancache::internal {

inline constexpr uint8_t kEntryFormatVersion = 1;
// Largest value (uncompressed) an envelope may hold: 256 MiB.
inline constexpr uint64_t kMaxEntryValueBytes = uint64_t{256} << 20;

struct CodecOptions {
  // Values of at least this many bytes are offered to zstd. Default: 4096.
  size_t compress_threshold = 4096;
  // zstd compression level. Default: 3.
  int zstd_level = 3;
};

// What decode_entry_with_key returns: the key stored in the envelope and
// the entry (meta + value; value never null).
struct DecodedEntry {
  CacheKey key;
  Entry entry;
};

// Encodes (key, entry) into an envelope.
// Errors: invalid_argument when entry.value is null or a key/tag does not fit
// a u32 length; resource_exhausted when the value exceeds
// kMaxEntryValueBytes; internal when zstd fails.
Result<Bytes> encode_entry(const CacheKey& key, const Entry& entry,
                           const CodecOptions& options = {});

// Decodes an envelope. When `expected_key` is given, the stored key must
// equal it. Errors: failed_precondition for a format version this build does
// not know (e.g. written by a newer plancache: treat as a miss, don't
// delete); data_loss for everything else (truncation, bad magic, unknown
// flags, checksum mismatch, bad lengths, bad compressed payload, size
// mismatch, oversized value, key mismatch).
Result<Entry> decode_entry(std::string_view bytes, const CacheKey* expected_key = nullptr);

// As decode_entry, and also returns the stored key.
Result<DecodedEntry> decode_entry_with_key(std::string_view bytes);

// What an envelope says about its entry without inflating the value: the
// stored key, the metadata and the value's uncompressed size (for listings,
// which report a size and never need the value).
struct EntryPeek {
  CacheKey key;
  EntryMeta meta;
  uint64_t value_size = 0;
};

// Applies every check decode_entry does except inflating a compressed
// payload: the frame, checksum, lengths, key and size bound, and a zstd
// payload's frame header (it must declare value_size). So it accepts what
// decode_entry accepts, but for a frame whose compressed blocks are damaged
// behind a valid checksum. Errors: as decode_entry.
Result<EntryPeek> peek_entry(std::string_view bytes);

}  // namespace plancache::internal

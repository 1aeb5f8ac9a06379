// libFuzzer target: the entry envelope decoder on arbitrary bytes.
//
// Properties checked (a violation aborts, which libFuzzer reports):
//  - decode never crashes, over-reads or over-allocates (ASan/UBSan/RSS limit);
//  - whatever decodes re-encodes (compressed and not) and decodes again to
//    the same key, metadata and value.
// Random bytes almost never carry a valid checksum, so each input is also
// tried "sealed": its last 8 bytes replaced by the right checksum. That lets
// the fuzzer reach every check that runs after the checksum.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/entry_codec.h"
#include "core/hashing.h"

namespace {

using plancache::internal::CodecOptions;
using plancache::internal::DecodedEntry;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "entry_decoder_fuzz: property violated: %s\n", what);
    std::abort();
  }
}

void check_round_trip(const DecodedEntry& d) {
  for (size_t threshold : {size_t{0}, SIZE_MAX}) {
    auto bytes = plancache::internal::encode_entry(d.key, d.entry, CodecOptions{threshold, 1});
    check(bytes.is_ok(), "a decoded entry must re-encode");
    auto again = plancache::internal::decode_entry(*bytes, &d.key);
    check(again.is_ok(), "a re-encoded entry must decode");
    check(again->meta.created_ms == d.entry.meta.created_ms, "created_ms round trip");
    check(again->meta.expires_ms == d.entry.meta.expires_ms, "expires_ms round trip");
    check(again->meta.compute_ms == d.entry.meta.compute_ms, "compute_ms round trip");
    check(again->meta.tags == d.entry.meta.tags, "tags round trip");
    check(*again->value == *d.entry.value, "value round trip");
  }
}

void try_decode(std::string_view bytes) {
  auto decoded = plancache::internal::decode_entry_with_key(bytes);
  if (!decoded.is_ok()) return;
  check(decoded->entry.value != nullptr, "decoded value is never null");
  check_round_trip(*decoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  try_decode(input);
  if (size >= 8) {
    std::string sealed(input);
    const uint64_t sum = plancache::internal::entry_checksum(input.substr(0, size - 8));
    for (size_t i = 0; i < 8; ++i) {
      sealed[size - 8 + i] = static_cast<char>((sum >> (8 * i)) & 0xFF);
    }
    try_decode(sealed);
  }
  return 0;
}

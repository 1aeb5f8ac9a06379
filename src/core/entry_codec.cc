// Entry envelope encoder and decoder (format: docs/entry_format.md).
//
// Layout (all integers little-endian):
//   "PCEN" | u8 version | u8 flags | i64 created_ms | i64 expires_ms |
//   u32 compute_ms | [i64 fresh_until_ms, only with flag 0x02] |
//   (flags 0x04 / 0x08: priority important / temporary; no bytes of their own)
//   u32 key_len, key | u32 tag_count, (u32 len, tag)* |
//   u64 value_size | u64 payload_len, payload | u64 XXH3-64 checksum
//
// Decoding order matters for safety: magic, then version (an unknown version
// is not corruption), then the checksum over everything, and only then the
// fields — each length is checked against the bytes that remain before it is
// used, so no read goes past the input and no allocation exceeds what the
// input itself or kMaxEntryValueBytes justifies. The zstd frame must declare
// exactly value_size bytes, and is inflated into a buffer of that capacity.
#include "core/entry_codec.h"

#include <zstd.h>

#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/hashing.h"

namespace plancache::internal {
namespace {

constexpr char kMagic[4] = {'P', 'C', 'E', 'N'};
constexpr uint8_t kFlagZstd = 0x01;
// The entry may be served stale until expires_ms; fresh_until_ms follows.
constexpr uint8_t kFlagFreshUntil = 0x02;
// EntryMeta::priority: neither bit = normal; both = corrupt.
constexpr uint8_t kFlagImportant = 0x04;
constexpr uint8_t kFlagTemporary = 0x08;
constexpr uint8_t kKnownFlags = kFlagZstd | kFlagFreshUntil | kFlagImportant | kFlagTemporary;
constexpr size_t kChecksumBytes = 8;
// magic + version + flags + created + expires + compute + key_len + tag_count
// + value_size + payload_len + checksum.
constexpr size_t kMinEnvelopeBytes = 4 + 1 + 1 + 8 + 8 + 4 + 4 + 4 + 8 + 8 + kChecksumBytes;
constexpr size_t kFlagsOffset = 5;

template <typename T>
void put_le(T v, std::string* out) {
  using U = std::make_unsigned_t<T>;
  auto u = static_cast<U>(v);
  for (size_t i = 0; i < sizeof(U); ++i) {
    out->push_back(static_cast<char>(static_cast<unsigned char>(u & 0xFF)));
    u = static_cast<U>(u >> 8);
  }
}

template <typename T>
T get_le(const char* p) {
  using U = std::make_unsigned_t<T>;
  U u = 0;
  for (size_t i = sizeof(U); i-- > 0;) {
    u = static_cast<U>((u << 8) | static_cast<unsigned char>(p[i]));
  }
  return static_cast<T>(u);
}

// Bounds-checked cursor over the checksummed part of an envelope.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  template <typename T>
  bool read(T* out) {
    if (remaining() < sizeof(T)) return false;
    *out = get_le<T>(data_.data() + pos_);
    pos_ += sizeof(T);
    return true;
  }
  bool read_bytes(uint64_t n, std::string_view* out) {
    if (n > remaining()) return false;
    *out = data_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

struct ZstdContexts {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx{ZSTD_createCCtx(), ZSTD_freeCCtx};
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx{ZSTD_createDCtx(), ZSTD_freeDCtx};
};

// One pair per thread: creating a zstd context costs more than compressing a
// few KB, and contexts must not be shared between threads.
ZstdContexts& zstd_contexts() {
  thread_local ZstdContexts contexts;
  return contexts;
}

Status corrupt(const std::string& what) {
  return Status::data_loss("corrupt cache entry: " + what);
}

// Appends the zstd frame of `value` to *out when it is smaller than the value.
bool append_compressed(std::string_view value, int level, std::string* out) {
  ZSTD_CCtx* cctx = zstd_contexts().cctx.get();
  if (cctx == nullptr) return false;
  const size_t start = out->size();
  out->resize(start + ZSTD_compressBound(value.size()));
  const size_t n = ZSTD_compressCCtx(cctx, out->data() + start, out->size() - start,
                                     value.data(), value.size(), level);
  if (ZSTD_isError(n) || n >= value.size()) {
    out->resize(start);
    return false;
  }
  out->resize(start + n);
  return true;
}

// Rule 10 for a compressed payload, without inflating it: the frame header
// declares `value_size` and the payload is exactly one frame.
Status check_zstd_frame(std::string_view payload, uint64_t value_size) {
  const unsigned long long declared = ZSTD_getFrameContentSize(payload.data(), payload.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR || declared == ZSTD_CONTENTSIZE_UNKNOWN ||
      declared != value_size) {
    return corrupt("zstd frame does not declare the stored value size");
  }
  if (ZSTD_findFrameCompressedSize(payload.data(), payload.size()) != payload.size()) {
    return corrupt("zstd payload is not exactly one frame");
  }
  return Status::ok();
}

// REQUIRES: check_zstd_frame(payload, value_size) passed, so the buffer is
// only ever as large as the frame declares (and value_size is bounded).
Result<BytesPtr> inflate(std::string_view payload, uint64_t value_size) {
  ZSTD_DCtx* dctx = zstd_contexts().dctx.get();
  if (dctx == nullptr) return Status::internal("cannot create a zstd decompression context");
  auto value = std::make_shared<std::string>(static_cast<size_t>(value_size), '\0');
  const size_t n =
      ZSTD_decompressDCtx(dctx, value->data(), value->size(), payload.data(), payload.size());
  if (ZSTD_isError(n) || n != value_size) return corrupt("zstd payload does not decompress");
  return BytesPtr(std::move(value));
}

Status read_tags(Reader* r, std::vector<std::string>* tags) {
  uint32_t count = 0;
  if (!r->read(&count)) return corrupt("truncated tag count");
  // Each tag takes at least its 4-byte length: bounds the loop by the input.
  if (count > r->remaining() / 4) return corrupt("tag count exceeds the entry size");
  tags->reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t len = 0;
    std::string_view tag;
    if (!r->read(&len) || !r->read_bytes(len, &tag)) return corrupt("truncated tag");
    tags->emplace_back(tag);
  }
  return Status::ok();
}

// Checks the frame (magic, version, checksum) and returns the checksummed body.
Result<std::string_view> check_frame(std::string_view bytes) {
  if (bytes.size() < 6) return corrupt("truncated (" + std::to_string(bytes.size()) + " bytes)");
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return corrupt("bad magic number (not a plancache entry)");
  }
  const auto version = static_cast<uint8_t>(bytes[4]);
  if (version != kEntryFormatVersion) {
    return Status::failed_precondition("unknown cache entry format version " +
                                       std::to_string(version) + " (this build reads " +
                                       std::to_string(kEntryFormatVersion) + ")");
  }
  if (bytes.size() < kMinEnvelopeBytes) {
    return corrupt("truncated (" + std::to_string(bytes.size()) + " bytes)");
  }
  const std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
  const auto stored = get_le<uint64_t>(bytes.data() + body.size());
  if (stored != entry_checksum(body)) return corrupt("checksum mismatch");
  const auto flags = static_cast<uint8_t>(bytes[kFlagsOffset]);
  if ((flags & ~kKnownFlags) != 0) return corrupt("unknown flags " + std::to_string(flags));
  if ((flags & kFlagImportant) != 0 && (flags & kFlagTemporary) != 0) {
    return corrupt("both priority flags are set");
  }
  return body;
}

// A checked envelope: what peek_entry reports, and views of the payload.
struct Envelope {
  EntryPeek peek;
  bool compressed = false;
  std::string_view payload;  // into the input
};

// Every decoding rule but inflating a compressed payload (rules 1-10 of
// docs/entry_format.md; for rule 10 only the frame header is read).
Result<Envelope> parse_envelope(std::string_view bytes) {
  Result<std::string_view> body = check_frame(bytes);
  if (!body.is_ok()) return body.status();
  Reader r(body->substr(6));
  const auto flags = static_cast<uint8_t>((*body)[kFlagsOffset]);
  Envelope out{EntryPeek{CacheKey("-", KeyKind::kUser, "-"), EntryMeta{}, 0}, false, {}};
  out.compressed = (flags & kFlagZstd) != 0;
  EntryMeta& meta = out.peek.meta;
  meta.priority = (flags & kFlagImportant) != 0   ? EntryPriority::kImportant
                  : (flags & kFlagTemporary) != 0 ? EntryPriority::kTemporary
                                                  : EntryPriority::kNormal;
  uint32_t key_len = 0;
  std::string_view key_bytes;
  if (!r.read(&meta.created_ms) || !r.read(&meta.expires_ms) || !r.read(&meta.compute_ms) ||
      ((flags & kFlagFreshUntil) != 0 && !r.read(&meta.fresh_until_ms)) || !r.read(&key_len) ||
      !r.read_bytes(key_len, &key_bytes)) {
    return corrupt("truncated header");
  }
  if (!CacheKey::decode(key_bytes, &out.peek.key)) return corrupt("malformed key");
  PLANCACHE_RETURN_IF_ERROR(read_tags(&r, &meta.tags));
  uint64_t& value_size = out.peek.value_size;
  uint64_t payload_len = 0;
  if (!r.read(&value_size) || !r.read(&payload_len)) return corrupt("truncated value header");
  if (value_size > kMaxEntryValueBytes) {
    return corrupt("value size " + std::to_string(value_size) + " exceeds the limit");
  }
  if (payload_len != r.remaining() || !r.read_bytes(payload_len, &out.payload)) {
    return corrupt("payload length does not match the entry size");
  }
  if (out.compressed) {
    PLANCACHE_RETURN_IF_ERROR(check_zstd_frame(out.payload, value_size));
  } else if (payload_len != value_size) {
    return corrupt("stored value size mismatch");
  }
  return out;
}

}  // namespace

Result<Bytes> encode_entry(const CacheKey& key, const Entry& entry, const CodecOptions& options) {
  if (entry.value == nullptr) return Status::invalid_argument("entry value must not be null");
  const std::string_view value = *entry.value;
  if (value.size() > kMaxEntryValueBytes) {
    return Status::resource_exhausted("entry value exceeds " +
                                      std::to_string(kMaxEntryValueBytes >> 20) + " MiB");
  }
  constexpr size_t kMaxU32 = std::numeric_limits<uint32_t>::max();
  size_t tag_bytes = 0;
  for (const auto& tag : entry.meta.tags) {
    if (tag.size() > kMaxU32) return Status::invalid_argument("entry tag is too long");
    tag_bytes += 4 + tag.size();
  }
  if (key.encoded().size() > kMaxU32 || entry.meta.tags.size() > kMaxU32) {
    return Status::invalid_argument("entry key or tag list is too long");
  }
  Bytes out;
  out.reserve(kMinEnvelopeBytes + key.encoded().size() + tag_bytes + value.size());
  out.append(kMagic, sizeof(kMagic));
  put_le<uint8_t>(kEntryFormatVersion, &out);
  const bool has_fresh_until = entry.meta.fresh_until_ms != 0;
  uint8_t flags = has_fresh_until ? kFlagFreshUntil : 0;
  if (entry.meta.priority == EntryPriority::kImportant) flags |= kFlagImportant;
  if (entry.meta.priority == EntryPriority::kTemporary) flags |= kFlagTemporary;
  put_le<uint8_t>(flags, &out);  // the zstd bit is added below
  put_le<int64_t>(entry.meta.created_ms, &out);
  put_le<int64_t>(entry.meta.expires_ms, &out);
  put_le<uint32_t>(entry.meta.compute_ms, &out);
  if (has_fresh_until) put_le<int64_t>(entry.meta.fresh_until_ms, &out);
  put_le<uint32_t>(static_cast<uint32_t>(key.encoded().size()), &out);
  out += key.encoded();
  put_le<uint32_t>(static_cast<uint32_t>(entry.meta.tags.size()), &out);
  for (const auto& tag : entry.meta.tags) {
    put_le<uint32_t>(static_cast<uint32_t>(tag.size()), &out);
    out += tag;
  }
  put_le<uint64_t>(value.size(), &out);
  const size_t payload_len_pos = out.size();
  put_le<uint64_t>(0, &out);  // payload_len, patched below
  uint64_t payload_len = value.size();
  if (!value.empty() && value.size() >= options.compress_threshold &&
      append_compressed(value, options.zstd_level, &out)) {
    flags |= kFlagZstd;
    out[kFlagsOffset] = static_cast<char>(flags);
    payload_len = out.size() - payload_len_pos - 8;
  } else {
    out += value;
  }
  for (size_t i = 0; i < 8; ++i) {
    out[payload_len_pos + i] = static_cast<char>(static_cast<unsigned char>(payload_len >> (8 * i)));
  }
  put_le<uint64_t>(entry_checksum(out), &out);
  return out;
}

Result<DecodedEntry> decode_entry_with_key(std::string_view bytes) {
  Result<Envelope> envelope = parse_envelope(bytes);
  if (!envelope.is_ok()) return envelope.status();
  Entry entry{std::move(envelope->peek.meta), nullptr};
  if (envelope->compressed) {
    Result<BytesPtr> value = inflate(envelope->payload, envelope->peek.value_size);
    if (!value.is_ok()) return value.status();
    entry.value = std::move(*value);
  } else {
    entry.value = std::make_shared<const std::string>(envelope->payload);
  }
  return DecodedEntry{std::move(envelope->peek.key), std::move(entry)};
}

Result<EntryPeek> peek_entry(std::string_view bytes) {
  Result<Envelope> envelope = parse_envelope(bytes);
  if (!envelope.is_ok()) return envelope.status();
  return std::move(envelope->peek);
}

Result<Entry> decode_entry(std::string_view bytes, const CacheKey* expected_key) {
  Result<DecodedEntry> decoded = decode_entry_with_key(bytes);
  if (!decoded.is_ok()) return decoded.status();
  if (expected_key != nullptr && !(decoded->key == *expected_key)) {
    return corrupt("stored key does not match the requested key");
  }
  return std::move(decoded->entry);
}

}  // namespace plancache::internal

// Entry envelope: round trips, pinned golden vectors, and every rejection.
#include "core/entry_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "core/hashing.h"

namespace plancache::internal {
namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string to_hex(std::string_view bytes) {
  return hex_encode(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

Entry make(std::string value, std::vector<std::string> tags = {}, int64_t created = 1,
           int64_t expires = 0, uint32_t compute = 0) {
  Entry e;
  e.meta.created_ms = created;
  e.meta.expires_ms = expires;
  e.meta.compute_ms = compute;
  e.meta.tags = std::move(tags);
  e.value = std::make_shared<const std::string>(std::move(value));
  return e;
}

void expect_same(const Entry& a, const Entry& b) {
  EXPECT_EQ(a.meta.created_ms, b.meta.created_ms);
  EXPECT_EQ(a.meta.expires_ms, b.meta.expires_ms);
  EXPECT_EQ(a.meta.compute_ms, b.meta.compute_ms);
  EXPECT_EQ(a.meta.tags, b.meta.tags);
  EXPECT_EQ(a.meta.priority, b.meta.priority);
  ASSERT_NE(b.value, nullptr);
  EXPECT_EQ(*a.value, *b.value);
}

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

const CacheKey kKey("default", KeyKind::kPlan, "abc123");

// docs/entry_format.md, "Golden vector 1": uncompressed. The checksum was
// verified independently:  <first 103 bytes> | xxhsum -H3  ->  a50eb7330ac3034e
constexpr std::string_view kGolden1 =
    "5043454e01000068e5cf8b01000080561cd08b010000d20400000f00000064656661756c7400706162633132"
    "33020000000200000074310900000070726f6a6563743a78130000000000000013000000000000007b227374"
    "657073223a5b2261222c2262225d7d4e03c30a33b70ea5";

// "Golden vector 2": 64 x 'a' compressed with zstd level 3 (threshold 0).
// Only decoding is pinned: another zstd version may compress differently.
constexpr std::string_view kGolden2 =
    "5043454e01010100000000000000000000000000000000000000050000006e7300756b00000000400000000000"
    "0000110000000000000028b52ffd204045000010616101009300166052470c68d8fbe3";

Entry golden1_entry() {
  return make("{\"steps\":[\"a\",\"b\"]}", {"t1", "project:x"}, 1700000000000, 1700003600000,
              1234);
}

TEST(EntryCodecGolden, EncodesToPinnedBytes) {
  Result<Bytes> bytes = encode_entry(kKey, golden1_entry());
  ASSERT_TRUE(bytes.is_ok());
  EXPECT_EQ(to_hex(*bytes), kGolden1);
}

TEST(EntryCodecGolden, DecodesPinnedBytes) {
  Result<DecodedEntry> d1 = decode_entry_with_key(from_hex(kGolden1));
  ASSERT_TRUE(d1.is_ok()) << d1.status().to_string();
  EXPECT_EQ(d1->key, kKey);
  expect_same(golden1_entry(), d1->entry);

  Result<DecodedEntry> d2 = decode_entry_with_key(from_hex(kGolden2));
  ASSERT_TRUE(d2.is_ok()) << d2.status().to_string();
  EXPECT_EQ(d2->key, CacheKey("ns", KeyKind::kUser, "k"));
  expect_same(make(std::string(64, 'a')), d2->entry);
}

TEST(EntryCodec, RoundTrips) {
  const std::vector<Entry> entries = {
      make(""),
      make("x"),
      make("{\"plan\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}", {"t\xc3\xa9", "", "b"}, -5, 99, 7),
      make(std::string(100000, 'z'), {"big"}, INT64_MIN, INT64_MAX, UINT32_MAX),
      make(random_bytes(10000, 1)),
      make(std::string("a\0b", 3)),
  };
  for (const Entry& e : entries) {
    for (size_t threshold : {size_t{0}, size_t{4096}, SIZE_MAX}) {
      Result<Bytes> bytes = encode_entry(kKey, e, CodecOptions{threshold, 3});
      ASSERT_TRUE(bytes.is_ok());
      Result<Entry> back = decode_entry(*bytes, &kKey);
      ASSERT_TRUE(back.is_ok()) << back.status().to_string();
      expect_same(e, *back);
    }
  }
}

TEST(EntryCodec, CompressesOnlyAboveThresholdAndWhenSmaller) {
  const Entry text = make(std::string(8192, 'q'));
  Result<Bytes> packed = encode_entry(kKey, text);
  ASSERT_TRUE(packed.is_ok());
  EXPECT_EQ((*packed)[5], '\x01');
  EXPECT_LT(packed->size(), 1000u);

  Result<Bytes> below = encode_entry(kKey, make(std::string(4095, 'q')));
  ASSERT_TRUE(below.is_ok());
  EXPECT_EQ((*below)[5], '\0');

  // Incompressible: stored raw even above the threshold.
  Result<Bytes> noise = encode_entry(kKey, make(random_bytes(8192, 2)));
  ASSERT_TRUE(noise.is_ok());
  EXPECT_EQ((*noise)[5], '\0');
}

TEST(EntryCodec, FreshUntilRoundTripsAndEveryTruncationIsRejected) {
  Entry e = make(std::string(5000, 'p'), {"t"}, 1000, 9000, 12);
  e.meta.fresh_until_ms = 4000;
  for (size_t threshold : {size_t{0}, SIZE_MAX}) {
    Result<Bytes> bytes = encode_entry(kKey, e, CodecOptions{threshold, 3});
    ASSERT_TRUE(bytes.is_ok());
    EXPECT_EQ(static_cast<uint8_t>((*bytes)[5]) & 0x02, 0x02) << "flag bit 1 marks fresh_until";
    Result<Entry> back = decode_entry(*bytes, &kKey);
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(back->meta.fresh_until_ms, 4000);
    EXPECT_EQ(back->meta.expires_ms, 9000);
    EXPECT_EQ(*back->value, *e.value);
    for (size_t len = 0; len < bytes->size(); ++len) {
      ASSERT_FALSE(decode_entry(std::string_view(*bytes).substr(0, len)).is_ok()) << len;
    }
  }
  // Without a grace period the bytes are those of the plain format.
  e.meta.fresh_until_ms = 0;
  Result<Bytes> plain = encode_entry(kKey, e, CodecOptions{SIZE_MAX, 3});
  ASSERT_TRUE(plain.is_ok());
  EXPECT_EQ((*plain)[5], '\0');
}

// The priority hint rides on flag bits 2 (important) and 3 (temporary):
// no bytes of its own, so an entry without one is byte for byte the
// envelope earlier versions wrote, and those (golden vector 1, a disk tier
// written before priorities) decode as normal.
TEST(EntryCodec, PriorityRoundTripsAndOldEnvelopesDecodeAsNormal) {
  Result<Entry> old = decode_entry(from_hex(kGolden1), &kKey);
  ASSERT_TRUE(old.is_ok()) << old.status().to_string();
  EXPECT_EQ(old->meta.priority, EntryPriority::kNormal);

  const std::pair<EntryPriority, uint8_t> cases[] = {
      {EntryPriority::kNormal, 0x00},
      {EntryPriority::kImportant, 0x04},
      {EntryPriority::kTemporary, 0x08},
  };
  for (const auto& [priority, bit] : cases) {
    Entry e = golden1_entry();
    e.meta.priority = priority;
    for (int64_t fresh_until : {int64_t{0}, int64_t{1700000001000}}) {
      e.meta.fresh_until_ms = fresh_until;
      for (size_t threshold : {size_t{0}, SIZE_MAX}) {
        Result<Bytes> bytes = encode_entry(kKey, e, CodecOptions{threshold, 3});
        ASSERT_TRUE(bytes.is_ok());
        EXPECT_EQ(static_cast<uint8_t>((*bytes)[5]) & 0x0C, bit);
        Result<Entry> back = decode_entry(*bytes, &kKey);
        ASSERT_TRUE(back.is_ok()) << back.status().to_string();
        expect_same(e, *back);
        EXPECT_EQ(back->meta.fresh_until_ms, fresh_until);
        Result<EntryPeek> peek = peek_entry(*bytes);
        ASSERT_TRUE(peek.is_ok());
        EXPECT_EQ(peek->meta.priority, priority);
      }
    }
  }
  // With no hint and no grace period: exactly the pinned bytes.
  Result<Bytes> plain = encode_entry(kKey, golden1_entry());
  ASSERT_TRUE(plain.is_ok());
  EXPECT_EQ(to_hex(*plain), kGolden1);
}

TEST(EntryCodec, EncodeRejectsNullValue) {
  Entry e;
  Result<Bytes> r = encode_entry(kKey, e);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(EntryCodec, KeyMismatchRejected) {
  const std::string bytes = from_hex(kGolden1);
  const CacheKey other("default", KeyKind::kPlan, "abc124");
  Result<Entry> r = decode_entry(bytes, &other);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(decode_entry(bytes, &kKey).is_ok());
  EXPECT_TRUE(decode_entry(bytes).is_ok());
}

TEST(EntryCodec, EveryTruncationRejected) {
  for (std::string_view golden : {kGolden1, kGolden2}) {
    const std::string bytes = from_hex(golden);
    for (size_t len = 0; len < bytes.size(); ++len) {
      Result<Entry> r = decode_entry(std::string_view(bytes).substr(0, len));
      ASSERT_FALSE(r.is_ok()) << "length " << len;
      EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << len;
    }
    EXPECT_FALSE(decode_entry(bytes + "x").is_ok());  // trailing byte
  }
}

TEST(EntryCodec, EveryBitFlipRejected) {
  for (std::string_view golden : {kGolden1, kGolden2}) {
    const std::string bytes = from_hex(golden);
    for (size_t i = 0; i < bytes.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string bad = bytes;
        bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
        Result<Entry> r = decode_entry(bad);
        ASSERT_FALSE(r.is_ok()) << "byte " << i << " bit " << bit;
        // Byte 4 is the version: another version is "unknown", not corrupt.
        const StatusCode want = i == 4 ? StatusCode::kFailedPrecondition : StatusCode::kDataLoss;
        EXPECT_EQ(r.status().code(), want) << "byte " << i;
      }
    }
  }
}

// Builds envelopes by hand, with a correct checksum, to reach the checks
// that follow the checksum.
class Forge {
 public:
  Forge& u8(uint8_t v) { return le(v, 1); }
  Forge& u32(uint32_t v) { return le(v, 4); }
  Forge& u64(uint64_t v) { return le(v, 8); }
  Forge& raw(std::string_view s) {
    bytes_.append(s);
    return *this;
  }
  // magic, version 1, flags, times, compute_ms.
  Forge& header(uint8_t flags) { return raw("PCEN").u8(1).u8(flags).u64(1).u64(0).u32(0); }
  Forge& key(std::string_view k) { return u32(static_cast<uint32_t>(k.size())).raw(k); }
  std::string sealed() const {
    std::string out = bytes_;
    const uint64_t sum = entry_checksum(out);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((sum >> (8 * i)) & 0xFF));
    return out;
  }

 private:
  Forge& le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    return *this;
  }
  std::string bytes_;
};

const std::string kUserKey("ns\0uk", 5);

void expect_data_loss(const std::string& bytes, const char* why) {
  Result<Entry> r = decode_entry(bytes);
  ASSERT_FALSE(r.is_ok()) << why;
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << why << ": " << r.status().to_string();
}

TEST(EntryCodecForged, ValidForgeryDecodes) {
  const std::string ok = Forge().header(0).key(kUserKey).u32(0).u64(2).u64(2).raw("hi").sealed();
  Result<Entry> r = decode_entry(ok);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r->value, "hi");
  const std::string temp = Forge().header(0x08).key(kUserKey).u32(0).u64(2).u64(2).raw("hi")
                               .sealed();
  Result<Entry> t = decode_entry(temp);
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  EXPECT_EQ(t->meta.priority, EntryPriority::kTemporary);
}

TEST(EntryCodecForged, RejectsBadFields) {
  expect_data_loss(Forge().raw("PCEX").u8(1).u8(0).u64(1).u64(0).u32(0).key(kUserKey).u32(0)
                       .u64(0).u64(0).sealed(), "bad magic");
  expect_data_loss(Forge().header(0x02).key(kUserKey).u32(0).u64(0).u64(0).sealed(),
                   "unknown flag");
  expect_data_loss(Forge().header(0x80).key(kUserKey).u32(0).u64(0).u64(0).sealed(),
                   "unknown high flag");
  expect_data_loss(Forge().header(0x10).key(kUserKey).u32(0).u64(0).u64(0).sealed(),
                   "unknown flag past the priority bits");
  expect_data_loss(Forge().header(0x0C).key(kUserKey).u32(0).u64(0).u64(0).sealed(),
                   "both priority bits");
  expect_data_loss(Forge().header(0).key("nonul").u32(0).u64(0).u64(0).sealed(), "bad key");
  expect_data_loss(Forge().header(0).key(std::string("ns\0x", 4)).u32(0).u64(0).u64(0).sealed(),
                   "bad key kind");
  expect_data_loss(Forge().header(0).u32(0xFFFFFFFF).u32(0).u64(0).u64(0).sealed(),
                   "key length past the end");
  expect_data_loss(Forge().header(0).key(kUserKey).u32(0xFFFFFFFF).u64(0).u64(0).sealed(),
                   "huge tag count");
  expect_data_loss(Forge().header(0).key(kUserKey).u32(1).u32(0xFFFFFFF0).u64(0).u64(0).sealed(),
                   "tag length past the end");
  expect_data_loss(Forge().header(0).key(kUserKey).u32(0).u64(3).u64(2).raw("hi").sealed(),
                   "value size mismatch");
  expect_data_loss(Forge().header(0).key(kUserKey).u32(0).u64(2).u64(3).raw("hi").sealed(),
                   "payload length past the end");
  expect_data_loss(Forge().header(0).key(kUserKey).u32(0).u64(2).u64(UINT64_MAX).raw("hi")
                       .sealed(), "payload length overflow");
  expect_data_loss(Forge().header(0).key(kUserKey).u32(0).u64(2).u64(1).raw("hi").sealed(),
                   "trailing bytes");
  expect_data_loss(Forge().header(0).key(kUserKey).u32(0).u64(kMaxEntryValueBytes + 1).u64(2)
                       .raw("hi").sealed(), "absurd value size");
}

TEST(EntryCodecForged, UnknownVersionIsNotCorruption) {
  std::string v2 = Forge().raw("PCEN").u8(2).u8(0).u64(1).u64(0).u32(0).key(kUserKey).u32(0)
                       .u64(0).u64(0).sealed();
  Result<Entry> r = decode_entry(v2);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("version 2"), std::string::npos);
}

std::string zstd_frame_of(std::string_view value) {
  // Borrow the encoder's frame: encode with threshold 0 and cut it out.
  Entry e = make(std::string(value));
  Result<Bytes> b = encode_entry(CacheKey("ns", KeyKind::kUser, "k"), e, CodecOptions{0, 3});
  EXPECT_TRUE(b.is_ok());
  EXPECT_EQ((*b)[5], '\x01');
  const size_t payload_start = 6 + 8 + 8 + 4 + 4 + 5 + 4 + 8 + 8;
  return b->substr(payload_start, b->size() - payload_start - 8);
}

TEST(EntryCodecForged, RejectsBadCompressedPayloads) {
  const std::string value(1000, 'a');
  const std::string frame = zstd_frame_of(value);
  auto forge = [&](uint64_t value_size, std::string_view payload) {
    return Forge().header(1).key(kUserKey).u32(0).u64(value_size).u64(payload.size())
        .raw(payload).sealed();
  };
  ASSERT_TRUE(decode_entry(forge(1000, frame)).is_ok());
  expect_data_loss(forge(999, frame), "declared size smaller than the frame");
  expect_data_loss(forge(1001, frame), "declared size larger than the frame");
  expect_data_loss(forge(1000, frame + frame), "two frames");
  expect_data_loss(forge(1000, "not zstd at all"), "garbage payload");
  expect_data_loss(forge(1000, frame.substr(0, frame.size() - 3)), "truncated frame");
  std::string corrupted = frame;
  corrupted[corrupted.size() / 2] = static_cast<char>(corrupted[corrupted.size() / 2] ^ 0x55);
  Result<Entry> r = decode_entry(forge(1000, corrupted));
  if (r.is_ok()) {
    EXPECT_EQ(r->value->size(), 1000u);  // zstd may still decode; size is enforced
  } else {
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  }
}

TEST(EntryCodecForged, ZipBombStoppedBeforeInflating) {
  // 300 MiB of zeros compress to a few KB; the declared size is over the cap.
  const uint64_t huge = kMaxEntryValueBytes + (uint64_t{44} << 20);
  expect_data_loss(Forge().header(1).key(kUserKey).u32(0).u64(huge).u64(4).raw("abcd").sealed(),
                   "declared size over the cap");
  // A frame that claims more than value_size is refused from its header.
  const std::string frame = zstd_frame_of(std::string(1 << 20, '\0'));
  expect_data_loss(Forge().header(1).key(kUserKey).u32(0).u64(16).u64(frame.size()).raw(frame)
                       .sealed(), "frame larger than declared");
}

// peek_entry: what decode_entry would report, read from the header alone.
TEST(EntryCodecPeek, ReportsKeyMetaAndUncompressedSize) {
  Result<EntryPeek> golden = peek_entry(from_hex(kGolden1));
  ASSERT_TRUE(golden.is_ok()) << golden.status().to_string();
  EXPECT_EQ(golden->key, kKey);
  EXPECT_EQ(golden->meta.created_ms, 1700000000000);
  EXPECT_EQ(golden->meta.expires_ms, 1700003600000);
  EXPECT_EQ(golden->meta.compute_ms, 1234u);
  EXPECT_EQ(golden->meta.tags, (std::vector<std::string>{"t1", "project:x"}));
  EXPECT_EQ(golden->value_size, golden1_entry().value->size());
  Result<EntryPeek> zipped = peek_entry(from_hex(kGolden2));
  ASSERT_TRUE(zipped.is_ok()) << zipped.status().to_string();
  EXPECT_EQ(zipped->value_size, 64u);

  Entry stale = make(std::string(1 << 20, 'z'), {"big"}, 5, 90, 3);
  stale.meta.fresh_until_ms = 60;
  for (size_t threshold : {size_t{0}, SIZE_MAX}) {
    Result<Bytes> bytes = encode_entry(kKey, stale, CodecOptions{threshold, 3});
    ASSERT_TRUE(bytes.is_ok());
    Result<EntryPeek> peek = peek_entry(*bytes);
    ASSERT_TRUE(peek.is_ok()) << peek.status().to_string();
    EXPECT_EQ(peek->value_size, 1u << 20);
    EXPECT_EQ(peek->meta.fresh_until_ms, 60);
    EXPECT_EQ(peek->meta.tags, stale.meta.tags);
  }
}

TEST(EntryCodecPeek, RejectsWhatDecodeRejectsBeforeInflating) {
  Result<Bytes> packed = encode_entry(kKey, make(std::string(8192, 'q'), {"t"}));
  ASSERT_TRUE(packed.is_ok());
  for (size_t n = 0; n < packed->size(); ++n) {
    EXPECT_FALSE(peek_entry(packed->substr(0, n)).is_ok()) << "truncated to " << n;
  }
  const std::string frame = zstd_frame_of(std::string(1000, 'a'));
  auto forge = [&](uint64_t value_size, std::string_view payload) {
    return Forge().header(1).key(kUserKey).u32(0).u64(value_size).u64(payload.size())
        .raw(payload).sealed();
  };
  EXPECT_TRUE(peek_entry(forge(1000, frame)).is_ok());
  for (const std::string& bad : {forge(999, frame), forge(1000, frame + frame),
                                 forge(1000, "not zstd at all"),
                                 Forge().header(0).key(kUserKey).u32(0).u64(3).u64(2).raw("hi")
                                     .sealed()}) {
    EXPECT_EQ(peek_entry(bad).status().code(), StatusCode::kDataLoss);
  }
}

}  // namespace
}  // namespace plancache::internal

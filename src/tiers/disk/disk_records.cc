#include "tiers/disk/disk_records.h"

#include <cstring>

namespace plancache::internal {
namespace {

constexpr uint8_t kMetaVersion = 1;
constexpr size_t kMetaFixedBytes = 1 + 8 + 8 + 8 + 8 + 4;

void append_le(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t read_le(std::string_view in, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<uint64_t>(static_cast<unsigned char>(in[pos + static_cast<size_t>(i)]))
         << (8 * i);
  }
  return v;
}

}  // namespace

std::string encode_meta(const MetaRecord& meta) {
  std::string out;
  size_t size = kMetaFixedBytes;
  for (const auto& tag : meta.tags) size += 4 + tag.size();
  out.reserve(size);
  out.push_back(static_cast<char>(kMetaVersion));
  append_le(&out, meta.stamp, 8);
  append_le(&out, meta.charge, 8);
  append_le(&out, static_cast<uint64_t>(meta.created_ms), 8);
  append_le(&out, static_cast<uint64_t>(meta.expires_ms), 8);
  append_le(&out, meta.tags.size(), 4);
  for (const auto& tag : meta.tags) {
    append_le(&out, tag.size(), 4);
    out.append(tag);
  }
  return out;
}

std::optional<MetaRecord> decode_meta(std::string_view bytes) {
  if (bytes.size() < kMetaFixedBytes || static_cast<uint8_t>(bytes[0]) != kMetaVersion) {
    return std::nullopt;
  }
  MetaRecord meta;
  meta.stamp = read_le(bytes, 1, 8);
  meta.charge = read_le(bytes, 9, 8);
  meta.created_ms = static_cast<int64_t>(read_le(bytes, 17, 8));
  meta.expires_ms = static_cast<int64_t>(read_le(bytes, 25, 8));
  const uint64_t ntags = read_le(bytes, 33, 4);
  size_t pos = kMetaFixedBytes;
  // Each tag needs at least its 4-byte length: bounds the reserve below.
  if (ntags > (bytes.size() - pos) / 4) return std::nullopt;
  meta.tags.reserve(ntags);
  for (uint64_t i = 0; i < ntags; ++i) {
    if (bytes.size() - pos < 4) return std::nullopt;
    const uint64_t len = read_le(bytes, pos, 4);
    pos += 4;
    if (bytes.size() - pos < len) return std::nullopt;
    meta.tags.emplace_back(bytes.substr(pos, len));
    pos += len;
  }
  if (pos != bytes.size()) return std::nullopt;
  return meta;
}

void append_be64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t read_be64(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

std::string order_key(uint64_t order, std::string_view encoded_key) {
  std::string out;
  out.reserve(8 + encoded_key.size());
  append_be64(&out, order);
  out.append(encoded_key);
  return out;
}

std::string tag_key(std::string_view tag, std::string_view encoded_key) {
  std::string out;
  out.reserve(tag.size() + 1 + encoded_key.size());
  out.append(tag);
  out.push_back('\0');
  out.append(encoded_key);
  return out;
}

std::string entries_counter_key(std::string_view ns) {
  std::string out = "e";
  out.append(ns);
  return out;
}

std::string bytes_counter_key(std::string_view ns) {
  std::string out = "b";
  out.append(ns);
  return out;
}

std::string counter_operand(int64_t delta) {
  std::string out;
  append_le(&out, static_cast<uint64_t>(delta), 8);
  return out;
}

std::optional<uint64_t> decode_counter(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  return read_le(bytes, 0, 8);
}

std::string_view glob_literal_prefix(std::string_view pattern) {
  const size_t special = pattern.find_first_of("*?[\\");
  return pattern.substr(0, special);
}

std::string prefix_successor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(out.back());
    if (last != 0xff) {
      ++last;
      return out;
    }
    out.pop_back();
  }
  return out;
}

}  // namespace plancache::internal

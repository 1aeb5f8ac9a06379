// Key slots per the Redis Cluster specification: CRC16-XMODEM (polynomial
// 0x1021, initial value 0) of the key, or of its hash tag -- the bytes
// between the first '{' and the first '}' after it, when that is not empty --
// modulo 16384.
#include "redis/cluster_map.h"

#include <algorithm>
#include <charconv>

#include "redis/redis_client.h"

namespace plancache::internal {
namespace {

constexpr std::array<uint16_t, 256> make_crc16_table() {
  std::array<uint16_t, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    auto crc = static_cast<uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<uint16_t>((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint16_t, 256> kCrc16Table = make_crc16_table();

uint16_t crc16(std::string_view data) {
  uint16_t crc = 0;
  for (const char c : data) {
    const auto byte = static_cast<uint8_t>(c);
    crc = static_cast<uint16_t>((crc << 8) ^ kCrc16Table[((crc >> 8) ^ byte) & 0xff]);
  }
  return crc;
}

std::optional<RedisEndpoint> node_of(const RedisReply& r, const RedisEndpoint& asked) {
  if (r.type != RedisReply::Type::kArray || r.elements.size() < 2) return std::nullopt;
  const RedisReply& host = r.elements[0];
  const RedisReply& port = r.elements[1];
  if (!host.is_string() || port.type != RedisReply::Type::kInteger) return std::nullopt;
  if (port.integer <= 0 || port.integer > 65535) return std::nullopt;
  RedisEndpoint ep{host.str.empty() || host.str == "?" ? asked.host : host.str,
                   static_cast<int>(port.integer)};
  return ep;
}

}  // namespace

uint16_t redis_slot_of(std::string_view key) {
  const size_t open = key.find('{');
  if (open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return static_cast<uint16_t>(crc16(key) & (kRedisSlots - 1));
}

void SlotMap::assign(uint16_t slot, const RedisEndpoint& node) {
  auto it = std::find(masters.begin(), masters.end(), node);
  if (it == masters.end()) {
    masters.push_back(node);
    it = masters.end() - 1;
    replicas.erase(std::remove(replicas.begin(), replicas.end(), node), replicas.end());
  }
  owner[slot] = static_cast<int16_t>(it - masters.begin());
}

Result<SlotMap> parse_cluster_slots(const RedisReply& reply, const RedisEndpoint& asked) {
  const auto bad = [&] {
    return Status::unavailable("redis " + asked.text() + ": unexpected CLUSTER SLOTS reply");
  };
  if (reply.type != RedisReply::Type::kArray) return bad();
  SlotMap map;
  for (const RedisReply& range : reply.elements) {
    if (range.type != RedisReply::Type::kArray || range.elements.size() < 3) return bad();
    const int64_t first = range.elements[0].integer;
    const int64_t last = range.elements[1].integer;
    const auto master = node_of(range.elements[2], asked);
    if (!master || first < 0 || last < first || last >= kRedisSlots) return bad();
    for (int64_t s = first; s <= last; ++s) map.assign(static_cast<uint16_t>(s), *master);
    for (size_t i = 3; i < range.elements.size(); ++i) {
      const auto replica = node_of(range.elements[i], asked);
      if (!replica) return bad();
      if (std::find(map.replicas.begin(), map.replicas.end(), *replica) == map.replicas.end()) {
        map.replicas.push_back(*replica);
      }
    }
  }
  return map;
}

std::optional<RedisEndpoint> parse_redis_node(std::string_view text, const RedisEndpoint& asked) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  int port = 0;
  const std::string_view p = text.substr(colon + 1);
  const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port <= 0 || port > 65535) {
    return std::nullopt;
  }
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return RedisEndpoint{host.empty() ? asked.host : host, port};
}

}  // namespace plancache::internal

// Helpers shared by the tests in tests/redis/.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "redis/redis_client.h"
#include "support/redis_process.h"

namespace plancache::internal {

inline std::unique_ptr<RedisClient> make_client(
    const std::string& url, const std::function<void(RedisClientOptions&)>& tweak = {}) {
  auto parsed = parse_redis_url(url);
  EXPECT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  if (!parsed.is_ok()) return nullptr;
  RedisClientOptions options;
  options.url = parsed.value();
  if (tweak) tweak(options);
  auto client = new_redis_client(std::move(options));
  EXPECT_TRUE(client.is_ok()) << client.status().to_string();
  return client.is_ok() ? std::move(client.value()) : nullptr;
}

// The reply of a command that must succeed at the transport level.
inline RedisReply must(const Result<RedisReply>& r) {
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? r.value() : RedisReply{};
}

inline int port_of(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

}  // namespace plancache::internal

// --redis-url parsing (redis/redis_url.h).
#include "redis/redis_url.h"

#include <gtest/gtest.h>

namespace plancache::internal {
namespace {

RedisUrl parse_ok(std::string_view text) {
  auto url = parse_redis_url(text);
  EXPECT_TRUE(url.is_ok()) << text << ": " << url.status().to_string();
  return url.is_ok() ? url.value() : RedisUrl{};
}

std::string parse_error(std::string_view text) {
  auto url = parse_redis_url(text);
  EXPECT_FALSE(url.is_ok()) << text << " should be refused";
  if (url.is_ok()) return "";
  EXPECT_EQ(url.status().code(), StatusCode::kInvalidArgument);
  return url.status().message();
}

TEST(RedisUrl, HostPortAndDefaults) {
  auto url = parse_ok("redis://127.0.0.1:6380");
  ASSERT_EQ(url.seeds.size(), 1u);
  EXPECT_EQ(url.seeds[0], (RedisEndpoint{"127.0.0.1", 6380}));
  EXPECT_EQ(url.db, 0);
  EXPECT_TRUE(url.user.empty());
  EXPECT_TRUE(url.password.empty());
  EXPECT_FALSE(url.cluster_seeds());
  EXPECT_EQ(parse_ok("redis://cache.internal").seeds[0].port, 6379);
  EXPECT_EQ(parse_ok("REDIS://h:1/").seeds[0], (RedisEndpoint{"h", 1}));
  EXPECT_EQ(parse_ok("redis://[::1]:7000").seeds[0], (RedisEndpoint{"::1", 7000}));
}

TEST(RedisUrl, Db) {
  EXPECT_EQ(parse_ok("redis://h:1/3").db, 3);
  EXPECT_EQ(parse_ok("redis://h:1/15").db, 15);
  EXPECT_NE(parse_error("redis://h:1/x").find("db"), std::string::npos);
  EXPECT_NE(parse_error("redis://h:1/-1").find("db"), std::string::npos);
  EXPECT_NE(parse_error("redis://h:1/3x").find("db"), std::string::npos);
}

TEST(RedisUrl, UserInfoIsPercentDecoded) {
  auto url = parse_ok("redis://app%40eu:p%3Aw%2Fd%25@h:1");
  EXPECT_EQ(url.user, "app@eu");
  EXPECT_EQ(url.password, "p:w/d%");
  auto only_pass = parse_ok("redis://:secret@h:1");
  EXPECT_EQ(only_pass.user, "");
  EXPECT_EQ(only_pass.password, "secret");
  EXPECT_EQ(parse_ok("redis://secret@h:1").password, "secret");  // as redis-cli reads it
  EXPECT_NE(parse_error("redis://u:p%zz@h:1").find("percent"), std::string::npos);
  EXPECT_NE(parse_error("redis://u:p%4@h:1").find("percent"), std::string::npos);
}

TEST(RedisUrl, RedactedHidesThePassword) {
  auto url = parse_ok("redis://app:hunter2@h:1/2");
  EXPECT_EQ(url.redacted(), "redis://app:***@h:1/2");
  EXPECT_EQ(url.redacted().find("hunter2"), std::string::npos);
  EXPECT_EQ(parse_ok("redis://h:1").redacted(), "redis://h:1");
  EXPECT_EQ(parse_ok("redis://:pw@a:1,b:2").redacted(), "redis://:***@a:1,b:2");
  // Errors do not echo a password either.
  EXPECT_EQ(parse_error("redis://u:hunter2@h:99999").find("hunter2"), std::string::npos);
}

TEST(RedisUrl, SeveralSeedsAreACluster) {
  for (const char* text : {"redis://a:1,b:2,c", "redis://a:1,redis://b:2,redis://c"}) {
    auto url = parse_ok(text);
    ASSERT_EQ(url.seeds.size(), 3u) << text;
    EXPECT_TRUE(url.cluster_seeds());
    EXPECT_EQ(url.seeds[1], (RedisEndpoint{"b", 2}));
    EXPECT_EQ(url.seeds[2], (RedisEndpoint{"c", 6379}));
  }
  auto auth = parse_ok("redis://u:p@a:1,b:2");
  EXPECT_EQ(auth.user, "u");
  EXPECT_EQ(auth.seeds.size(), 2u);
  EXPECT_NE(parse_error("redis://a:1,b:2/3").find("several seeds"), std::string::npos);
  EXPECT_NE(parse_error("redis://a:1/3,b:2").find("several seeds"), std::string::npos);
  parse_error("redis://a:1,");
  parse_error("redis://a:1,,b:2");
  parse_error("redis://a:1,http://b:2");
}

TEST(RedisUrl, BadInputs) {
  EXPECT_NE(parse_error("").find("empty"), std::string::npos);
  EXPECT_NE(parse_error("127.0.0.1:6379").find("scheme"), std::string::npos);
  EXPECT_NE(parse_error("http://h:1").find("scheme"), std::string::npos);
  EXPECT_NE(parse_error("redis://").find("seed"), std::string::npos);
  EXPECT_NE(parse_error("redis://:1").find("host"), std::string::npos);
  EXPECT_NE(parse_error("redis://h:").find("port"), std::string::npos);
  EXPECT_NE(parse_error("redis://h:0").find("port"), std::string::npos);
  EXPECT_NE(parse_error("redis://h:65536").find("port"), std::string::npos);
  EXPECT_NE(parse_error("redis://h:12ab").find("port"), std::string::npos);
  EXPECT_NE(parse_error("redis://h h:1").find("host"), std::string::npos);
  EXPECT_NE(parse_error("redis://[::1:1").find("IPv6"), std::string::npos);
  EXPECT_NE(parse_error("redis://h:1?db=2").find("query"), std::string::npos);
}

TEST(RedisUrl, TlsIsRefused) {
  const std::string m = parse_error("rediss://h:6380");
  EXPECT_NE(m.find("TLS"), std::string::npos) << m;
  EXPECT_NE(m.find("not supported"), std::string::npos) << m;
  EXPECT_NE(parse_error("redis://a:1,rediss://b:2").find("TLS"), std::string::npos);
}

}  // namespace
}  // namespace plancache::internal

// The shared Redis fixture started by ctest (scripts/redis-fixture.sh via
// the redis_fixture_start test): one standalone server and one 3-master
// cluster. Tests registered with plancache_uses_redis(<test>) get
// $PLANCACHE_TEST_REDIS_ENV naming the fixture's env file.
//
// Shared with tests running in parallel: use a random key prefix
// (random_key_prefix()), never FLUSHALL, kill, freeze or re-auth it; use a
// private RedisProcess (redis_process.h) for that.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

namespace plancache::test {

struct RedisFixtureUrls {
  std::string standalone;  // PLANCACHE_TEST_REDIS_URL
  std::string cluster;     // PLANCACHE_TEST_REDIS_CLUSTER_URL
};

// The fixture's URLs; a test failure (and empty URLs) when it is missing.
inline RedisFixtureUrls redis_fixture_urls() {
  RedisFixtureUrls urls;
  const char* env = std::getenv("PLANCACHE_TEST_REDIS_ENV");
  if (env == nullptr || *env == '\0') {
    ADD_FAILURE() << "PLANCACHE_TEST_REDIS_ENV is not set: this test needs the shared Redis "
                     "fixture; run it through ctest (plancache_uses_redis(<test>)) or run "
                     "scripts/redis-fixture.sh start DIR and export "
                     "PLANCACHE_TEST_REDIS_ENV=DIR/env";
    return urls;
  }
  std::ifstream in(env);
  if (!in) {
    ADD_FAILURE() << "cannot read the Redis fixture env file '" << env
                  << "' (did the redis_fixture_start test fail?)";
    return urls;
  }
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = line.substr(0, eq);
    if (name == "PLANCACHE_TEST_REDIS_URL") urls.standalone = line.substr(eq + 1);
    if (name == "PLANCACHE_TEST_REDIS_CLUSTER_URL") urls.cluster = line.substr(eq + 1);
  }
  if (urls.standalone.empty() || urls.cluster.empty()) {
    ADD_FAILURE() << "the Redis fixture env file '" << env << "' lacks "
                  << "PLANCACHE_TEST_REDIS_URL or PLANCACHE_TEST_REDIS_CLUSTER_URL";
  }
  return urls;
}

// Loads the fixture into `var`, or ends the test (ASSERT) when it is missing.
#define PLANCACHE_REDIS_FIXTURE(var)                                                       \
  const ::plancache::test::RedisFixtureUrls var = ::plancache::test::redis_fixture_urls(); \
  ASSERT_FALSE(var.standalone.empty() || var.cluster.empty())

// "t:<tag>:<16 hex>:" -- unique per call, so parallel tests never share keys.
inline std::string random_key_prefix(const std::string& tag) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(rng()));
  return "t:" + tag + ":" + hex + ":";
}

}  // namespace plancache::test

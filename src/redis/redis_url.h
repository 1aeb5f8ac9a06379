// The --redis-url grammar (SPEC §3): redis://[user:pass@]host:port[/db],
// several comma-separated seeds = a Redis Cluster. User and password are
// percent-decoded; a password without a user authenticates as `default`.
//
// Thread-safety: a plain function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plancache/status.h"

namespace plancache::internal {

struct RedisEndpoint {
  std::string host;
  int port = 6379;
  bool operator==(const RedisEndpoint&) const = default;
  std::string text() const { return host + ":" + std::to_string(port); }
};

struct RedisUrl {
  std::vector<RedisEndpoint> seeds;  // at least one
  std::string user;                  // "" = none (AUTH <password> alone)
  std::string password;              // "" = no AUTH
  int db = 0;                        // SELECT when not 0 (standalone only)
  // Several seeds given: a Cluster. With one seed the client still finds
  // out at connect time whether the server is a cluster node.
  bool cluster_seeds() const { return seeds.size() > 1; }
  // The URL with the password replaced by "***" (for logs and errors).
  std::string redacted() const;
};

// Errors: invalid_argument naming what is wrong (scheme, host, port, db,
// a db with several seeds, percent escapes).
Result<RedisUrl> parse_redis_url(std::string_view text);

}  // namespace plancache::internal

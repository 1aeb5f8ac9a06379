// The table of `plancache serve` settings shared by the flag registration
// (CLI11), the environment lookup and the TOML reader, so that each setting
// has one name, one help text and one parser.
//
// Thread-safety: the table is immutable.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "plancache/status.h"
#include "server/config.h"

namespace plancache::internal {

struct ServeSetting {
  // snake_case name: TOML key, flag "--" + kebab-case, env PLANCACHE_ + upper.
  std::string_view name;
  std::optional<std::string> server::ServeFlags::*flag;
  std::string_view help;
  std::string_view default_text;  // shown in --help
  // Parses `value` into `config`; `source` names where it came from
  // ("--port", "PLANCACHE_PORT", "key 'port' of /etc/p.toml") for errors.
  Status (*apply)(server::ServerConfig& config, std::string_view value, std::string_view source);
};

// Every setting except --config.
std::span<const ServeSetting> serve_settings();

// "l1-max-entries" for "l1_max_entries".
std::string kebab_case(std::string_view snake);
// "PLANCACHE_L1_MAX_ENTRIES" for "l1_max_entries".
std::string env_var_name(std::string_view snake);

// Value parsers, exposed for the seed variables. Each names `source` and the
// value in its error.
Result<bool> parse_bool_setting(std::string_view value, std::string_view source);
Result<int64_t> parse_int_setting(std::string_view value, std::string_view source, int64_t min,
                                  int64_t max);

}  // namespace plancache::internal

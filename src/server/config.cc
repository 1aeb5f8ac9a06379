// Resolution of the `plancache serve` configuration.
//
// The layers are applied lowest precedence first (defaults, TOML file, seed
// variables -- PLAN_CACHE_* and RUSTLE_* --, PLANCACHE_* variables, flags),
// each overwriting what the one below set. Every value that is given is
// validated, even one a higher layer overrides: a typo in the config file is
// reported, not silently masked (and two seed variables that disagree stop
// the start even when a PLANCACHE_* variable or a flag decides).
// Which settings each layer gave is recorded, so that the default
// namespace's policy can be settled last (config_namespaces.h).
#include "server/config.h"

#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <limits>
#include <set>

#include "core/utf8.h"
#include "redis/redis_url.h"
#include "server/config_namespaces.h"
#include "server/config_settings.h"

namespace plancache::server {
namespace {

using internal::NamespaceTables;
using internal::ServeSetting;

// Names of the settings one layer gave.
using GivenSet = std::set<std::string, std::less<>>;

const ServeSetting* find_setting(std::string_view name) {
  for (const ServeSetting& s : internal::serve_settings()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// A TOML value as the text the setting parsers take; arrays (of strings) are
// joined with commas, which is what ignored_context_fields expects.
Result<std::string> toml_value_text(const toml::node& node, const std::string& source) {
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* b = node.as_boolean()) return std::string(b->get() ? "true" : "false");
  if (const auto* a = node.as_array()) {
    std::string joined;
    for (const toml::node& item : *a) {
      const auto* s = item.as_string();
      if (s == nullptr || s->get().find(',') != std::string::npos) {
        return Status::invalid_argument(source + ": expected an array of strings without commas");
      }
      if (!joined.empty()) joined += ',';
      joined += s->get();
    }
    return joined;
  }
  return Status::invalid_argument(source + ": expected a string, integer, boolean or array");
}

Status apply_toml_file(const std::string& path, ServerConfig& config, GivenSet* given,
                       NamespaceTables* namespaces) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::string where;
    if (e.source().begin) {
      where = " at line " + std::to_string(e.source().begin.line);
    }
    return Status::invalid_argument("config file " + path + where + ": " +
                                    std::string(e.description()));
  } catch (const std::exception& e) {
    return Status::invalid_argument("config file " + path + ": " + e.what());
  }
  std::string unknown;
  for (const auto& [raw_key, node] : table) {
    const std::string key = [&] {
      std::string k(raw_key.str());
      for (char& ch : k) ch = ch == '-' ? '_' : ch;
      return k;
    }();
    if (key == "namespaces") {
      PLANCACHE_RETURN_IF_ERROR(internal::apply_namespace_tables(node, path, namespaces));
      continue;
    }
    const ServeSetting* setting = find_setting(key);
    if (setting == nullptr) {
      if (!unknown.empty()) unknown += ", ";
      unknown += "'" + internal::printable_ascii(raw_key.str()) + "'";
      continue;
    }
    const std::string source = "key '" + key + "' of config file " + path;
    auto text = toml_value_text(node, source);
    if (!text.is_ok()) return text.status();
    PLANCACHE_RETURN_IF_ERROR(setting->apply(config, *text, source));
    given->insert(key);
  }
  if (!unknown.empty()) {
    return Status::invalid_argument("config file " + path + ": unknown keys " + unknown);
  }
  return Status::ok();
}

// A boolean variable: nullopt when unset; an error names it.
Result<std::optional<bool>> env_bool(const EnvLookup& env, std::string_view name) {
  const std::optional<std::string> v = env(name);
  if (!v) return std::optional<bool>();
  auto b = internal::parse_bool_setting(*v, name);
  if (!b.is_ok()) return b.status();
  return std::optional<bool>(*b);
}

// A Redis URL ("" = none) checked where it is read, so that the error names
// the variable rather than --redis-url.
Status check_redis_url(std::string_view url, std::string_view source) {
  if (url.empty()) return Status::ok();
  auto parsed = internal::parse_redis_url(url);
  if (parsed.is_ok()) return Status::ok();
  return Status::invalid_argument(std::string(source) + ": " + parsed.status().message());
}

// What the chat backend's PLAN_CACHE_REDIS_ENABLED (+ REDIS_URL) asks for:
// nullopt = nothing (unset), "" = no Redis, else the URL.
Result<std::optional<std::string>> chat_redis_url(const EnvLookup& env) {
  auto on = env_bool(env, "PLAN_CACHE_REDIS_ENABLED");
  if (!on.is_ok()) return on.status();
  if (!*on) return std::optional<std::string>();
  if (!**on) return std::optional<std::string>("");
  std::string url = env("REDIS_URL").value_or("redis://localhost:6379");
  PLANCACHE_RETURN_IF_ERROR(check_redis_url(url, "REDIS_URL"));
  return std::optional<std::string>(std::move(url));
}

// The variables of the seed designs (SPEC §1, PlanCacheService).
Status apply_seed_env(const EnvLookup& env, ServerConfig& config, GivenSet* given) {
  const ServeSetting* ttl = find_setting("default_ttl_s");
  const ServeSetting* maxsize = find_setting("l1_max_entries");
  const ServeSetting* enabled = find_setting("cache_enabled");
  if (auto v = env("PLAN_CACHE_TTL")) {
    PLANCACHE_RETURN_IF_ERROR(ttl->apply(config, *v, "PLAN_CACHE_TTL"));
    given->insert("default_ttl_s");
  }
  if (auto v = env("PLAN_CACHE_MAXSIZE")) {
    PLANCACHE_RETURN_IF_ERROR(maxsize->apply(config, *v, "PLAN_CACHE_MAXSIZE"));
    given->insert("l1_max_entries");
  }
  if (auto v = env("PLAN_CACHE_ENABLED")) {
    PLANCACHE_RETURN_IF_ERROR(enabled->apply(config, *v, "PLAN_CACHE_ENABLED"));
  }
  if (auto v = env("PLAN_CACHE_MIN_GEN_TIME")) {
    // Seconds, as a decimal number ("0.5").
    double seconds = -1;
    try {
      size_t used = 0;
      seconds = std::stod(*v, &used);
      if (used != v->size()) seconds = -1;
    } catch (const std::exception&) {
      seconds = -1;
    }
    if (!(seconds >= 0 && seconds < 1e12)) {
      return Status::invalid_argument(
          "PLAN_CACHE_MIN_GEN_TIME: expected a non-negative number "
          "of seconds, got '" +
          internal::printable_ascii(*v) + "'");
    }
    config.min_compute_ms = static_cast<int64_t>(seconds * 1000.0 + 0.5);
    given->insert("min_compute_ms");
  }
  auto redis = chat_redis_url(env);
  if (!redis.is_ok()) return redis.status();
  if (*redis && !(*redis)->empty()) config.redis_url = **redis;
  return Status::ok();
}

// Both designs name the same setting and disagree: neither wins.
Status disagree(std::string_view what, std::string_view setting) {
  return Status::invalid_argument(std::string(what) + "; unset one of them (" +
                                  internal::env_var_name(setting) + " or --" +
                                  internal::kebab_case(setting) + " beats both)");
}

// The playbook planner's variables (SPEC §1, IntelligentPlanCache), the same
// layer as the chat backend's: RUSTLE_CACHE_ENABLED (= cache_enabled),
// RUSTLE_CACHE_DIR (= data_dir), RUSTLE_REDIS_URL (= redis_url),
// RUSTLE_CACHE_SIZE_MB (= l1_max_bytes in MiB). Where a PLAN_CACHE_*
// variable gives the same setting another value, start-up fails naming both.
Status apply_rustle_env(const EnvLookup& env, ServerConfig& config, GivenSet* given) {
  auto enabled = env_bool(env, "RUSTLE_CACHE_ENABLED");
  if (!enabled.is_ok()) return enabled.status();
  if (*enabled) {
    auto chat = env_bool(env, "PLAN_CACHE_ENABLED");
    if (chat.is_ok() && *chat && **chat != **enabled) {
      return disagree("RUSTLE_CACHE_ENABLED and PLAN_CACHE_ENABLED disagree", "cache_enabled");
    }
    config.cache_enabled = **enabled;
  }
  if (auto dir = env("RUSTLE_CACHE_DIR")) {
    PLANCACHE_RETURN_IF_ERROR(find_setting("data_dir")->apply(config, *dir, "RUSTLE_CACHE_DIR"));
    given->insert("data_dir");
  }
  if (auto url = env("RUSTLE_REDIS_URL")) {
    PLANCACHE_RETURN_IF_ERROR(check_redis_url(*url, "RUSTLE_REDIS_URL"));
    auto chat = chat_redis_url(env);
    if (chat.is_ok() && *chat && **chat != *url) {
      return disagree((*chat)->empty()
                          ? "RUSTLE_REDIS_URL names a Redis server but PLAN_CACHE_REDIS_ENABLED "
                            "is false"
                          : "RUSTLE_REDIS_URL and PLAN_CACHE_REDIS_ENABLED + REDIS_URL name "
                            "different Redis URLs",
                      "redis_url");
    }
    config.redis_url = *url;
    given->insert("redis_url");
  }
  if (auto mb = env("RUSTLE_CACHE_SIZE_MB")) {
    auto n = internal::parse_int_setting(*mb, "RUSTLE_CACHE_SIZE_MB (MiB)", 0,
                                         std::numeric_limits<int64_t>::max() >> 20);
    if (!n.is_ok()) return n.status();
    config.l1_max_bytes = static_cast<uint64_t>(*n) << 20;
    given->insert("l1_max_bytes");
  }
  return Status::ok();
}

}  // namespace

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<ServerConfig> resolve_server_config(const ServeFlags& flags, const EnvLookup& env) {
  ServerConfig config;
  GivenSet in_file;     // top-level keys of the TOML file
  GivenSet above_file;  // settings given by a seed variable, PLANCACHE_* or a flag
  NamespaceTables namespaces;
  std::optional<std::string> config_path = flags.config_path;
  if (!config_path) config_path = env("PLANCACHE_CONFIG");
  if (config_path && !config_path->empty()) {
    PLANCACHE_RETURN_IF_ERROR(apply_toml_file(*config_path, config, &in_file, &namespaces));
  }
  PLANCACHE_RETURN_IF_ERROR(apply_seed_env(env, config, &above_file));
  PLANCACHE_RETURN_IF_ERROR(apply_rustle_env(env, config, &above_file));
  for (const ServeSetting& s : internal::serve_settings()) {
    const std::string var = internal::env_var_name(s.name);
    if (auto v = env(var)) {
      PLANCACHE_RETURN_IF_ERROR(s.apply(config, *v, var));
      above_file.emplace(s.name);
    }
  }
  for (const ServeSetting& s : internal::serve_settings()) {
    if (const auto& v = flags.*(s.flag)) {
      PLANCACHE_RETURN_IF_ERROR(s.apply(config, *v, "--" + internal::kebab_case(s.name)));
      above_file.emplace(s.name);
    }
  }
  PLANCACHE_RETURN_IF_ERROR(internal::finish_namespaces(
      std::move(namespaces), [&](std::string_view name) { return above_file.count(name) != 0; },
      [&](std::string_view name) { return in_file.count(name) != 0; }, config));
  return config;
}

void register_serve_flags(CLI::App& serve_cmd, ServeFlags* flags) {
  serve_cmd
      .add_option_function<std::string>(
          "--config", [flags](const std::string& v) { flags->config_path = v; },
          "TOML config file (keys named after the flags; env PLANCACHE_CONFIG)")
      ->type_name("FILE");
  for (const ServeSetting& s : internal::serve_settings()) {
    std::optional<std::string> ServeFlags::*member = s.flag;
    const std::string help = std::string(s.help) + " [env " + internal::env_var_name(s.name) + "]";
    CLI::Option* opt = serve_cmd.add_option_function<std::string>(
        "--" + internal::kebab_case(s.name),
        [flags, member](const std::string& v) { flags->*member = v; }, help);
    opt->default_str(std::string(s.default_text));
  }
}

}  // namespace plancache::server

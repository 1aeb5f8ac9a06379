// Resolution of the `plancache serve` configuration.
//
// The layers are applied lowest precedence first (defaults, TOML file, seed
// variables, PLANCACHE_* variables, flags), each overwriting what the one
// below set. Every value that is given is validated, even one a higher layer
// overrides: a typo in the config file is reported, not silently masked.
// Which settings each layer gave is recorded, so that the default
// namespace's policy can be settled last (config_namespaces.h).
#include "server/config.h"

#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <set>

#include "core/utf8.h"
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
  if (auto v = env("PLAN_CACHE_REDIS_ENABLED")) {
    auto on = internal::parse_bool_setting(*v, "PLAN_CACHE_REDIS_ENABLED");
    if (!on.is_ok()) return on.status();
    if (*on) config.redis_url = env("REDIS_URL").value_or("redis://localhost:6379");
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

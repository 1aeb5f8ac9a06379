// resolve_server_config: precedence (flag > PLANCACHE_* > seed variables >
// TOML > defaults), the [namespaces.*] tables and the default namespace's
// precedence, and error messages naming the source and the value.
#include "server/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace plancache::server {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

class FakeEnv {
 public:
  FakeEnv& set(std::string name, std::string value) {
    vars_[std::move(name)] = std::move(value);
    return *this;
  }
  EnvLookup lookup() const {
    return [this](std::string_view name) -> std::optional<std::string> {
      auto it = vars_.find(std::string(name));
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }

 private:
  std::map<std::string, std::string> vars_;
};

class ConfigTest : public ::testing::Test {
 protected:
  // Writes a TOML file in the test's temp dir and returns its path.
  std::string toml(const std::string& text) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const auto path = std::filesystem::temp_directory_path() /
                      (std::string("plancache_config_") + info->name() + ".toml");
    std::ofstream(path) << text;
    paths_.push_back(path);
    return path.string();
  }
  ~ConfigTest() override {
    for (const auto& p : paths_) std::filesystem::remove(p);
  }

  Result<ServerConfig> resolve(const ServeFlags& flags = {}) {
    return resolve_server_config(flags, env_.lookup());
  }
  std::string error(const ServeFlags& flags = {}) {
    auto r = resolve(flags);
    EXPECT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    return r.status().message();
  }

  FakeEnv env_;
  std::vector<std::filesystem::path> paths_;
};

TEST_F(ConfigTest, DefaultsWithNothingSet) {
  auto c = resolve();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->host, "127.0.0.1");
  EXPECT_EQ(c->port, 8080);
  EXPECT_EQ(c->data_dir, "./plancache-data");
  EXPECT_EQ(c->l1_max_entries, 100'000u);
  EXPECT_EQ(c->default_ttl_s, 3600);
  EXPECT_EQ(c->max_body_bytes, 8u << 20);
  EXPECT_EQ(c->max_header_bytes, 16u << 10);
  EXPECT_EQ(c->hash, "sha256");
  EXPECT_TRUE(c->cache_enabled);
  EXPECT_TRUE(c->redis_url.empty());
}

TEST_F(ConfigTest, PrecedenceFlagThenEnvThenSeedThenTomlThenDefault) {
  const std::string path =
      toml("default_ttl_s = 10\nport = 1111\nl1_max_entries = 5\nhost = \"::1\"\n");
  env_.set("PLAN_CACHE_TTL", "20").set("PLANCACHE_PORT", "2222").set("PLAN_CACHE_MAXSIZE", "6");
  ServeFlags flags;
  flags.config_path = path;
  flags.port = "3333";
  auto c = resolve(flags);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->port, 3333);          // flag
  EXPECT_EQ(c->default_ttl_s, 20);   // seed beats TOML
  EXPECT_EQ(c->l1_max_entries, 6u);  // seed beats TOML
  EXPECT_EQ(c->host, "::1");         // TOML beats default

  flags.port.reset();
  EXPECT_EQ(resolve(flags)->port, 2222);  // PLANCACHE_* env
  env_.set("PLANCACHE_DEFAULT_TTL_S", "30");
  EXPECT_EQ(resolve(flags)->default_ttl_s, 30);  // PLANCACHE_* beats seed
  flags.default_ttl_s = "40";
  EXPECT_EQ(resolve(flags)->default_ttl_s, 40);
}

TEST_F(ConfigTest, SeedVariablesOfTheOldDesigns) {
  env_.set("PLAN_CACHE_TTL", "120")
      .set("PLAN_CACHE_MAXSIZE", "500")
      .set("PLAN_CACHE_MIN_GEN_TIME", "1.5")
      .set("PLAN_CACHE_ENABLED", "false")
      .set("REDIS_URL", "redis://cache:6379/2");
  auto c = resolve();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->default_ttl_s, 120);
  EXPECT_EQ(c->l1_max_entries, 500u);
  EXPECT_EQ(c->min_compute_ms, 1500);
  EXPECT_FALSE(c->cache_enabled);
  EXPECT_EQ(c->redis_url, "");  // REDIS_URL alone does not enable Redis
  env_.set("PLAN_CACHE_REDIS_ENABLED", "true");
  EXPECT_EQ(resolve()->redis_url, "redis://cache:6379/2");
  env_.set("PLAN_CACHE_REDIS_ENABLED", "0");
  EXPECT_EQ(resolve()->redis_url, "");
}

TEST_F(ConfigTest, PlaybookPlannerVariables) {
  env_.set("RUSTLE_CACHE_ENABLED", "false")
      .set("RUSTLE_CACHE_DIR", "/var/cache/rustle")
      .set("RUSTLE_REDIS_URL", "redis://cache:6380/1")
      .set("RUSTLE_CACHE_SIZE_MB", "64");
  auto c = resolve();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_FALSE(c->cache_enabled);
  EXPECT_EQ(c->data_dir, "/var/cache/rustle");
  EXPECT_EQ(c->redis_url, "redis://cache:6380/1");
  EXPECT_EQ(c->l1_max_bytes, 64u << 20);
  EXPECT_EQ(c->namespaces->get("default").memory.max_bytes, 64u << 20);
  env_.set("RUSTLE_CACHE_DIR", "").set("RUSTLE_CACHE_SIZE_MB", "0");
  c = resolve();
  EXPECT_EQ(c->data_dir, "") << "as --data-dir '': no disk tier";
  EXPECT_EQ(c->l1_max_bytes, 0u) << "as --l1-max-bytes 0: unbounded";
}

TEST_F(ConfigTest, PlaybookPlannerVariablesPrecedence) {
  const std::string path = toml(
      "data_dir = \"/toml\"\nl1_max_bytes = 1000\n[namespaces.default]\nmax_bytes = 2000\n");
  ServeFlags flags;
  flags.config_path = path;
  env_.set("RUSTLE_CACHE_DIR", "/rustle").set("RUSTLE_CACHE_SIZE_MB", "3");
  auto c = resolve(flags);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->data_dir, "/rustle") << "a seed variable beats the file";
  EXPECT_EQ(c->namespaces->get("default").memory.max_bytes, 3u << 20)
      << "and [namespaces.default], as PLAN_CACHE_MAXSIZE does";
  env_.set("PLANCACHE_DATA_DIR", "/env").set("PLANCACHE_L1_MAX_BYTES", "4000");
  c = resolve(flags);
  EXPECT_EQ(c->data_dir, "/env") << "PLANCACHE_* beats RUSTLE_*";
  EXPECT_EQ(c->l1_max_bytes, 4000u);
  flags.data_dir = "/flag";
  flags.l1_max_bytes = "5000";
  c = resolve(flags);
  EXPECT_EQ(c->data_dir, "/flag");
  EXPECT_EQ(c->l1_max_bytes, 5000u);
}

TEST_F(ConfigTest, SeedVariablesOfBothDesignsMustAgree) {
  env_.set("RUSTLE_CACHE_ENABLED", "false").set("PLAN_CACHE_ENABLED", "0");
  ASSERT_TRUE(resolve().is_ok()) << "the same value, spelt differently";
  env_.set("PLAN_CACHE_ENABLED", "true");
  EXPECT_THAT(error(), AllOf(HasSubstr("RUSTLE_CACHE_ENABLED"), HasSubstr("PLAN_CACHE_ENABLED"),
                             HasSubstr("PLANCACHE_CACHE_ENABLED")));
  env_.set("PLANCACHE_CACHE_ENABLED", "true");
  EXPECT_THAT(error(), HasSubstr("disagree")) << "reported even when a higher layer decides";

  env_ = FakeEnv();
  env_.set("RUSTLE_REDIS_URL", "redis://a:6379").set("PLAN_CACHE_REDIS_ENABLED", "true");
  EXPECT_THAT(error(), AllOf(HasSubstr("RUSTLE_REDIS_URL"), HasSubstr("REDIS_URL"),
                             HasSubstr("different")))
      << "PLAN_CACHE_REDIS_ENABLED alone means redis://localhost:6379";
  env_.set("REDIS_URL", "redis://a:6379");
  auto c = resolve();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->redis_url, "redis://a:6379");
  env_.set("PLAN_CACHE_REDIS_ENABLED", "false");
  EXPECT_THAT(error(), AllOf(HasSubstr("RUSTLE_REDIS_URL"), HasSubstr("PLAN_CACHE_REDIS_ENABLED"),
                             HasSubstr("--redis-url")));
}

TEST_F(ConfigTest, BadPlaybookPlannerVariablesNameTheVariable) {
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"RUSTLE_CACHE_ENABLED", "maybe"},
           {"RUSTLE_CACHE_SIZE_MB", "-1"},
           {"RUSTLE_CACHE_SIZE_MB", "64MB"},
           {"RUSTLE_CACHE_SIZE_MB", "99999999999999999"},
           {"RUSTLE_REDIS_URL", "cache:6379"}}) {
    env_ = FakeEnv();
    env_.set(name, value);
    EXPECT_THAT(error(), HasSubstr(name)) << name << "=" << value;
  }
  env_ = FakeEnv();
  env_.set("PLAN_CACHE_REDIS_ENABLED", "1").set("REDIS_URL", "cache:6379");
  EXPECT_THAT(error(), HasSubstr("REDIS_URL: "));
}

TEST_F(ConfigTest, TomlFileWithEveryKindOfValue) {
  const std::string path = toml(R"(
host = "127.0.0.2"
port = 9000
l1-max-bytes = 1048576
ignored_context_fields = ["request_id", "timestamp"]
cache_enabled = false
hash = "xxh3-128"
log_level = "debug"
)");
  env_.set("PLANCACHE_CONFIG", path);
  auto c = resolve();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->host, "127.0.0.2");
  EXPECT_EQ(c->port, 9000);
  EXPECT_EQ(c->l1_max_bytes, 1048576u);
  EXPECT_EQ(c->ignored_context_fields, (std::vector<std::string>{"request_id", "timestamp"}));
  EXPECT_FALSE(c->cache_enabled);
  EXPECT_EQ(c->hash, "xxh3-128");
  EXPECT_EQ(c->log_level, "debug");
}

TEST_F(ConfigTest, BadValuesNameTheirSourceAndValue) {
  ServeFlags flags;
  flags.port = "70000";
  EXPECT_THAT(error(flags), AllOf(HasSubstr("--port"), HasSubstr("70000")));
  flags = {};
  flags.l1_max_entries = "-1";
  EXPECT_THAT(error(flags), AllOf(HasSubstr("--l1-max-entries"), HasSubstr("-1")));
  flags = {};
  flags.hash = "md5";
  EXPECT_THAT(error(flags), AllOf(HasSubstr("--hash"), HasSubstr("md5")));
  flags = {};
  flags.log_level = "loud";
  EXPECT_THAT(error(flags), AllOf(HasSubstr("--log-level"), HasSubstr("loud")));
  flags = {};
  flags.ignored_context_fields = "a,,b";
  EXPECT_THAT(error(flags), HasSubstr("--ignored-context-fields"));
  flags = {};
  flags.read_timeout_ms = "0";
  EXPECT_THAT(error(flags), HasSubstr("--read-timeout-ms"));

  FakeEnv saved = env_;
  env_.set("PLANCACHE_L1_MAX_BYTES", "12abc");
  EXPECT_THAT(error(), AllOf(HasSubstr("PLANCACHE_L1_MAX_BYTES"), HasSubstr("12abc")));
  env_ = saved;
  env_.set("PLANCACHE_CACHE_ENABLED", "maybe");
  EXPECT_THAT(error(), AllOf(HasSubstr("PLANCACHE_CACHE_ENABLED"), HasSubstr("maybe")));
  env_ = saved;
  env_.set("PLAN_CACHE_MIN_GEN_TIME", "-2");
  EXPECT_THAT(error(), AllOf(HasSubstr("PLAN_CACHE_MIN_GEN_TIME"), HasSubstr("-2")));
  env_ = saved;
  env_.set("PLAN_CACHE_TTL", "1h");
  EXPECT_THAT(error(), AllOf(HasSubstr("PLAN_CACHE_TTL"), HasSubstr("1h")));
  env_ = saved;
  env_.set("PLAN_CACHE_REDIS_ENABLED", "sure");
  EXPECT_THAT(error(), HasSubstr("PLAN_CACHE_REDIS_ENABLED"));
}

TEST_F(ConfigTest, TomlErrorsNameTheKeyTheFileOrTheLine) {
  ServeFlags flags;
  flags.config_path = toml("port = \"eighty\"\n");
  EXPECT_THAT(error(flags),
              AllOf(HasSubstr("'port'"), HasSubstr(*flags.config_path), HasSubstr("eighty")));
  flags.config_path = toml("port = 80\nprot = 81\n[server]\nx = 1\n");
  EXPECT_THAT(error(flags),
              AllOf(HasSubstr("unknown keys"), HasSubstr("'prot'"), HasSubstr("'server'")));
  flags.config_path = toml("port = 80\nhost = \n");
  EXPECT_THAT(error(flags), HasSubstr("line 2"));
  flags.config_path = toml("default_ttl_s = 1.5\n");
  EXPECT_THAT(error(flags), HasSubstr("default_ttl_s"));
  flags.config_path = toml("ignored_context_fields = [1, 2]\n");
  EXPECT_THAT(error(flags), HasSubstr("ignored_context_fields"));
  flags.config_path = "/nonexistent/plancache.toml";
  EXPECT_THAT(error(flags), HasSubstr("/nonexistent/plancache.toml"));
}

TEST_F(ConfigTest, TheTomlValueIsValidatedEvenWhenOverridden) {
  ServeFlags flags;
  flags.config_path = toml("port = 99999\n");
  flags.port = "80";
  EXPECT_THAT(error(flags), HasSubstr("99999"));
}

TEST_F(ConfigTest, NoNamespaceTablesGiveThePresets) {
  auto c = resolve();
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  ASSERT_NE(c->namespaces, nullptr);
  const NamespacePolicies& p = *c->namespaces;
  for (auto name : {"default", "docs", "standard", "heavy", "checkpoints"}) {
    EXPECT_TRUE(p.configured(name)) << name;
  }
  EXPECT_EQ(p.get("default").memory.max_entries, c->l1_max_entries);
  EXPECT_EQ(p.get("default").memory.max_bytes, c->l1_max_bytes);
  EXPECT_EQ(p.get("default").default_ttl_ms, c->default_ttl_s * 1000);
  EXPECT_EQ(p.get("docs").memory.max_entries, NamespacePolicies().get("docs").memory.max_entries);
}

TEST_F(ConfigTest, NamespaceTablesOverrideOnlyTheKeysTheyGive) {
  ServeFlags flags;
  flags.config_path = toml(R"(
[namespaces.docs]
max_entries = 42
compress = false

[namespaces.team-a]
max-bytes = 1048576
default_ttl_s = 30
tiers = ["l1"]
min_compute_ms = 250
eviction = "lru"
persistent = false
stale_while_revalidate_s = 60
stale_if_error_s = 600
planner_url = "http://127.0.0.1:9000/plan"

[namespaces.tools]
planner_cmd = "plan --json"
eviction = "cost"
)");
  auto c = resolve(flags);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  const NamespacePolicies& p = *c->namespaces;
  const NamespacePolicy preset_docs = NamespacePolicies().get("docs");
  const NamespacePolicy& docs = p.get("docs");
  EXPECT_EQ(docs.memory.max_entries, 42u);
  EXPECT_FALSE(docs.disk.compress);
  EXPECT_EQ(docs.memory.max_bytes, preset_docs.memory.max_bytes) << "not given: the preset's";
  EXPECT_EQ(docs.default_ttl_ms, preset_docs.default_ttl_ms);

  ASSERT_TRUE(p.configured("team-a"));
  const NamespacePolicy& a = p.get("team-a");
  const NamespacePolicy builtin_default;
  EXPECT_EQ(a.memory.max_entries, builtin_default.memory.max_entries)
      << "a new name starts from default";
  EXPECT_EQ(a.memory.max_bytes, 1048576u);
  EXPECT_EQ(a.default_ttl_ms, 30'000);
  EXPECT_EQ(a.tiers, std::vector<TierKind>{TierKind::kMemory});
  EXPECT_EQ(a.min_compute_ms, 250);
  EXPECT_EQ(a.memory.eviction, EvictionPolicy::kLru);
  EXPECT_FALSE(a.disk.persistent);
  EXPECT_EQ(a.read_through.stale_while_revalidate_s, 60);
  EXPECT_EQ(a.read_through.stale_if_error_s, 600);
  EXPECT_EQ(c->namespace_planners.at("team-a").url, "http://127.0.0.1:9000/plan");
  EXPECT_EQ(c->namespace_planners.at("team-a").cmd, "");
  EXPECT_EQ(c->namespace_planners.at("tools").cmd, "plan --json");
  EXPECT_EQ(c->namespace_planners.count("docs"), 0u) << "no planner of its own";
  EXPECT_EQ(p.get("tools").read_through.stale_if_error_s, 0);
  EXPECT_EQ(p.get("tools").memory.eviction, EvictionPolicy::kCost);
  EXPECT_FALSE(p.configured("team-b"));
}

TEST_F(ConfigTest, NamespaceKeyRules) {
  ServeFlags flags;
  flags.config_path = toml(R"(
ignored_context_fields = ["timestamp"]

[namespaces.ops]
key_ignored_fields = ["request_id", "trace"]
key_set_arrays = { "plays" = "name", "hosts" = "", "tasks" = "id" }

[namespaces.infra.key_set_arrays]
"Host Names" = ""
)");
  auto c = resolve(flags);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  const KeyRules& ops = c->namespaces->get("ops").keys;
  EXPECT_EQ(ops.ignored_fields, (std::vector<std::string>{"request_id", "trace"}));
  EXPECT_EQ(ops.set_arrays, (std::map<std::string, std::string, std::less<>>{
                                {"hosts", ""}, {"plays", "name"}, {"tasks", "id"}}));
  EXPECT_EQ(c->ignored_context_fields, std::vector<std::string>{"timestamp"}) << "server-wide";
  const KeyRules& infra = c->namespaces->get("infra").keys;
  EXPECT_TRUE(infra.ignored_fields.empty());
  EXPECT_EQ(infra.set_arrays.at("Host Names"), "") << "member names are kept verbatim";
  EXPECT_TRUE(c->namespaces->get("default").keys.empty()) << "no rules: version-1 keys";
}

TEST_F(ConfigTest, NamespacePlannerIsOneOfUrlOrCommand) {
  ServeFlags flags;
  flags.config_path = toml(R"(
[namespaces.mine]
planner_url = "http://127.0.0.1:1/plan"
planner_cmd = "planner"
)");
  EXPECT_THAT(error(flags), HasSubstr("not both"));
  EXPECT_THAT(error(flags), HasSubstr("[namespaces.mine]"));
}

TEST_F(ConfigTest, DefaultNamespacePrecedence) {
  // The file gives both the top-level key and [namespaces.default]: the
  // table is more specific and wins.
  const std::string both = toml(R"(
l1_max_entries = 10
default_ttl_s = 11
min_compute_ms = 12
l1_max_bytes = 13000

[namespaces.default]
max_entries = 20
default_ttl_s = 21
)");
  ServeFlags flags;
  flags.config_path = both;
  auto c = resolve(flags);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  const NamespacePolicy* d = &c->namespaces->get("default");
  EXPECT_EQ(d->memory.max_entries, 20u) << "[namespaces.default] beats the top-level key";
  EXPECT_EQ(d->default_ttl_ms, 21'000);
  EXPECT_EQ(d->min_compute_ms, 12) << "top-level key where the table is silent";
  EXPECT_EQ(d->memory.max_bytes, 13000u);
  EXPECT_EQ(c->l1_max_entries, 20u) << "the config mirrors the default namespace";
  EXPECT_EQ(c->default_ttl_s, 21);

  // Seed variables, PLANCACHE_* variables and flags beat the file.
  env_.set("PLAN_CACHE_MAXSIZE", "30").set("PLAN_CACHE_MIN_GEN_TIME", "0.5");
  env_.set("PLANCACHE_DEFAULT_TTL_S", "31");
  flags.l1_max_bytes = "40000";
  c = resolve(flags);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  d = &c->namespaces->get("default");
  EXPECT_EQ(d->memory.max_entries, 30u);
  EXPECT_EQ(d->min_compute_ms, 500);
  EXPECT_EQ(d->default_ttl_ms, 31'000);
  EXPECT_EQ(d->memory.max_bytes, 40000u);
  EXPECT_EQ(c->l1_max_entries, 30u);
  EXPECT_EQ(c->l1_max_bytes, 40000u);

  // Other lanes are not touched by the server-wide settings.
  EXPECT_EQ(c->namespaces->get("docs").memory.max_entries, NamespacePolicies().get("docs").memory.max_entries);
  EXPECT_EQ(c->namespaces->get("docs").default_ttl_ms,
            NamespacePolicies().get("docs").default_ttl_ms);

  // With no file, the flag alone sets the default lane; 0 = unbounded.
  flags = {};
  flags.l1_max_entries = "0";
  c = resolve(flags);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->namespaces->get("default").memory.max_entries, 0u);
}

TEST_F(ConfigTest, NamespaceTableErrorsNameFileTableAndKey) {
  struct Case {
    std::string text;
    std::vector<std::string> fragments;
  };
  const std::vector<Case> cases = {
      {"[namespaces.docs]\nmax_entrys = 5\n", {"[namespaces.docs]", "'max_entrys'", "unknown"}},
      {"[namespaces.docs]\nmax_entries = -5\n", {"[namespaces.docs]", "'max_entries'", "-5"}},
      {"[namespaces.docs]\nmax_entries = \"lots\"\n", {"'max_entries'", "lots"}},
      {"[namespaces.docs]\ndefault_ttl_s = 1.5\n", {"'default_ttl_s'", "float"}},
      {"[namespaces.docs]\ncompress = \"yes\"\n", {"'compress'", "yes"}},
      {"[namespaces.docs]\ntiers = [\"l1\", \"l9\"]\n", {"'tiers'", "l9"}},
      {"[namespaces.docs]\ntiers = []\n", {"'tiers'", "at least one"}},
      {"[namespaces.docs]\ntiers = \"l1\"\n", {"'tiers'", "array"}},
      {"[namespaces.docs]\neviction = \"fifo\"\n", {"'eviction'", "fifo", "\"cost\""}},
      {"[namespaces.docs]\npersistent = 1\n", {"'persistent'"}},
      {"[namespaces.docs]\nmin_compute_ms = -1\n", {"'min_compute_ms'"}},
      {"[namespaces.docs]\nstale_while_revalidate_s = -1\n", {"'stale_while_revalidate_s'"}},
      {"[namespaces.docs]\nstale_if_error_s = true\n", {"'stale_if_error_s'"}},
      {"[namespaces.docs]\nplanner_url = 5\n", {"'planner_url'"}},
      {"[namespaces.docs]\nplanner_url = \"http://x\"\nplanner_cmd = \"y\"\n",
       {"[namespaces.docs]", "planner_url", "planner_cmd"}},
      {"[namespaces.\"../x\"]\nmax_entries = 5\n", {"[namespaces.../x]", "namespace"}},
      {"[namespaces.\"a/b\"]\n", {"a/b", "namespace"}},
      {"[namespaces.\"\"]\n", {"[namespaces.]", "empty"}},
      {"[namespaces]\n\"" + std::string(65, 'n') + "\" = {}\n", {"longer than 64"}},
      {"[namespaces]\ndocs = 5\n", {"[namespaces.docs]", "table"}},
      {"namespaces = 5\n", {"'namespaces'", "table"}},
      {"[namespaces.ops]\nkey_set_arrays = [\"plays\"]\n",
       {"[namespaces.ops]", "'key_set_arrays'", "a table", "an array"}},
      {"[namespaces.ops]\nkey_set_arrays = { plays = 5 }\n",
       {"[namespaces.ops]", "'key_set_arrays'", "'plays'", "a string", "5"}},
      {"[namespaces.ops]\nkey_set_arrays = { \"\" = \"name\" }\n",
       {"[namespaces.ops]", "'key_set_arrays'", "empty"}},
      {"[namespaces.ops]\nkey_ignored_fields = \"request_id\"\n",
       {"[namespaces.ops]", "'key_ignored_fields'", "an array", "'request_id'"}},
      {"[namespaces.ops]\nkey_ignored_fields = [\"a\", \"\"]\n",
       {"[namespaces.ops]", "'key_ignored_fields'", "empty"}},
      {"[namespaces.ops]\nkey_ignored_fields = [1]\n", {"'key_ignored_fields'", "a string", "1"}},
  };
  for (const Case& c : cases) {
    ServeFlags flags;
    flags.config_path = toml(c.text);
    const std::string message = error(flags);
    EXPECT_THAT(message, HasSubstr(*flags.config_path)) << c.text;
    for (const std::string& fragment : c.fragments) {
      EXPECT_THAT(message, HasSubstr(fragment)) << c.text;
    }
  }
}

TEST(ServeFlagsTest, RegisteredFlagsFillServeFlags) {
  CLI::App app("plancache");
  CLI::App* serve = app.add_subcommand("serve", "run the server");
  ServeFlags flags;
  register_serve_flags(*serve, &flags);
  const char* argv[] = {
      "plancache", "serve",  "--port",          "9090", "--host=::1", "--l1-max-entries", "7",
      "--config",  "x.toml", "--cache-enabled", "false"};
  ASSERT_NO_THROW(app.parse(static_cast<int>(std::size(argv)), argv));
  EXPECT_EQ(flags.port, "9090");
  EXPECT_EQ(flags.host, "::1");
  EXPECT_EQ(flags.l1_max_entries, "7");
  EXPECT_EQ(flags.config_path, "x.toml");
  EXPECT_EQ(flags.cache_enabled, "false");
  EXPECT_FALSE(flags.admin_token.has_value());

  const std::string help = serve->help();
  for (const char* flag : {"--host", "--port", "--config", "--data-dir", "--redis-url",
                           "--planner-url", "--planner-cmd", "--admin-token", "--api-token",
                           "--l1-max-entries", "--l1-max-bytes", "--default-ttl-s"}) {
    EXPECT_THAT(help, HasSubstr(flag));
  }
  EXPECT_THAT(help, HasSubstr("100000"));
  EXPECT_THAT(help, HasSubstr("PLANCACHE_PORT"));
}

}  // namespace
}  // namespace plancache::server

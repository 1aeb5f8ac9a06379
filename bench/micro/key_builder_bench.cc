// Micro-benchmarks of the core: plan-key building (normalise + canonical JSON
// + digest) with SHA-256 and XXH3-128, and entry envelope encode/decode.
//
//   build/<release>/bench/key_builder_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "core/entry_codec.h"
#include "core/key_builder_internal.h"
#include "plancache/key_builder.h"

namespace {

using plancache::HashAlgorithm;

constexpr const char* kContext =
    R"({"env":"prod","region":"eu-west-1","replicas":3,"flags":["a","b"],"version":1.0})";

// ~60 bytes of ASCII.
std::string short_goal() { return "Deploy the payments web app to production with a canary step"; }

// ~2 KB: the short goal repeated, with some runs of whitespace to collapse.
std::string long_goal(bool unicode) {
  std::string g;
  while (g.size() < 2048) {
    g += short_goal();
    g += unicode ? " caf\xc3\xa9\xc2\xa0 \xe2\x80\x94  " : "   \t";
  }
  return g;
}

void run_key(benchmark::State& state, const std::string& goal, HashAlgorithm hash) {
  const plancache::KeyBuilder builder(plancache::KeyBuilderOptions{hash, {"request_id"}});
  for (auto _ : state) {
    auto key = builder.plan_key("standard", goal, kContext);
    benchmark::DoNotOptimize(key);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(goal.size()));
}

void BM_PlanKey_Short_Sha256(benchmark::State& s) { run_key(s, short_goal(), HashAlgorithm::kSha256); }
void BM_PlanKey_Short_Xxh3(benchmark::State& s) { run_key(s, short_goal(), HashAlgorithm::kXxh3_128); }
void BM_PlanKey_Long_Sha256(benchmark::State& s) { run_key(s, long_goal(false), HashAlgorithm::kSha256); }
void BM_PlanKey_Long_Xxh3(benchmark::State& s) { run_key(s, long_goal(false), HashAlgorithm::kXxh3_128); }
void BM_PlanKey_LongUnicode_Sha256(benchmark::State& s) {
  run_key(s, long_goal(true), HashAlgorithm::kSha256);
}
BENCHMARK(BM_PlanKey_Short_Sha256);
BENCHMARK(BM_PlanKey_Short_Xxh3);
BENCHMARK(BM_PlanKey_Long_Sha256);
BENCHMARK(BM_PlanKey_Long_Xxh3);
BENCHMARK(BM_PlanKey_LongUnicode_Sha256);

void BM_CanonicalContext(benchmark::State& state) {
  const plancache::KeyBuilder builder;
  for (auto _ : state) {
    auto c = builder.canonical_context(kContext);
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_CanonicalContext);

// The server's path: the request body is parsed once, the context is
// canonicalised from the parsed value.
void BM_PlanKey_Short_Sha256_Parsed(benchmark::State& state) {
  const plancache::KeyBuilder builder;
  const nlohmann::json context = nlohmann::json::parse(kContext);
  const std::string goal = short_goal();
  for (auto _ : state) {
    auto key = plancache::internal::plan_key_from_json(builder, "standard", goal, context);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_PlanKey_Short_Sha256_Parsed);

// A plan-like JSON document of about `size` bytes (compressible, as plans are).
std::string plan_json(size_t size) {
  std::string p = "{\"tasks\":[";
  for (int i = 0; p.size() < size - 40; ++i) {
    p += "{\"id\":" + std::to_string(i) + ",\"action\":\"run step " + std::to_string(i * 7919 % 1000) +
         "\",\"deps\":[" + std::to_string(i / 2) + "]},";
  }
  p += "{}]}";
  p.resize(size, ' ');
  return p;
}

plancache::Entry make_entry(size_t size) {
  plancache::Entry e;
  e.meta.created_ms = 1700000000000;
  e.meta.expires_ms = 1700003600000;
  e.meta.compute_ms = 2500;
  e.meta.tags = {"project:payments", "planner:v2"};
  e.value = std::make_shared<const std::string>(plan_json(size));
  return e;
}

const plancache::CacheKey kKey("standard", plancache::KeyKind::kPlan,
                               "69bd9ecfb8e31e6215d3b325226779aba9ca0836248d8cd0635ee5c19f364119");

void BM_EntryEncode(benchmark::State& state) {
  const plancache::Entry entry = make_entry(static_cast<size_t>(state.range(0)));
  size_t encoded = 0;
  for (auto _ : state) {
    auto bytes = plancache::internal::encode_entry(kKey, entry);
    encoded = bytes->size();
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["encoded_bytes"] = static_cast<double>(encoded);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void BM_EntryDecode(benchmark::State& state) {
  const plancache::Entry entry = make_entry(static_cast<size_t>(state.range(0)));
  const std::string bytes = *plancache::internal::encode_entry(kKey, entry);
  for (auto _ : state) {
    auto decoded = plancache::internal::decode_entry(bytes, &kKey);
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void BM_EntryRoundTripUncompressed(benchmark::State& state) {
  const plancache::Entry entry = make_entry(static_cast<size_t>(state.range(0)));
  const plancache::internal::CodecOptions raw{SIZE_MAX, 3};
  for (auto _ : state) {
    auto bytes = plancache::internal::encode_entry(kKey, entry, raw);
    auto decoded = plancache::internal::decode_entry(*bytes, &kKey);
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

BENCHMARK(BM_EntryEncode)->Arg(4096)->Arg(32768);
BENCHMARK(BM_EntryDecode)->Arg(4096)->Arg(32768);
BENCHMARK(BM_EntryRoundTripUncompressed)->Arg(4096)->Arg(32768);

}  // namespace

BENCHMARK_MAIN();

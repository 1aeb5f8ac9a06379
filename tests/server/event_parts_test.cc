// The event stream's parts around the bus: the SSE text of events
// (format_event), the GET /v1/events query (parse_event_filter) and the
// put events of PublishingCache over a real memory-tier cache.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plancache/memory_tier.h"
#include "server/event_subscriber.h"
#include "server/event_test_support.h"
#include "server/handlers/handlers.h"
#include "server/publishing_cache.h"

namespace plancache::internal {
namespace {

std::shared_ptr<EventSubscriber> subscribe_all(EventBus& bus, const std::shared_ptr<FakeSink>& sink) {
  auto s = bus.subscribe({}, sink);
  EXPECT_TRUE(s.is_ok());
  return s.is_ok() ? *s : nullptr;
}

TEST(EventFormat, PutEventGolden) {
  Event e;
  e.type = EventType::kPut;
  e.seq = 7;
  e.time_ms = 1'790'000'000'123;
  e.ns = "heavy";
  e.key = "ab12";
  e.bytes = 42;
  e.compute_ms = 812;
  e.tiers = 0b011;  // l1, l2
  e.tags = {"web", "de\"ploy"};
  e.priority = EntryPriority::kImportant;
  EXPECT_EQ(format_event(e),
            "event: put\nid: 7\ndata: {\"t\":1790000000123,\"ns\":\"heavy\",\"kind\":\"plan\","
            "\"key\":\"ab12\",\"bytes\":42,\"compute_ms\":812,\"expires_ms\":null,"
            "\"tiers\":[\"l1\",\"l2\"],\"tags\":[\"web\",\"de\\\"ploy\"],"
            "\"priority\":\"important\"}\n\n");
}

TEST(EventFormat, PlannerFinishAndUserKeys) {
  Event e;
  e.type = EventType::kPlanner;
  e.seq = 1;
  e.ns = "default";
  e.kind = KeyKind::kUser;
  e.key = "workflow:step_5";
  e.phase = PlannerPhase::kFinish;
  e.outcome = PlannerOutcome::kTimeout;
  e.ms = 300;
  e.error = "timed out after 300 ms";
  const json data = json::parse(parse(format_event(e))[0].data.dump());
  EXPECT_EQ(data["kind"], "entry");
  EXPECT_EQ(data["key"], "workflow:step_5");
  EXPECT_EQ(data["outcome"], "timeout");
  EXPECT_EQ(data["ms"], 300);
  EXPECT_EQ(data["background"], false);
}

TEST(EventFilterQuery, ParsesAndRefuses) {
  auto f = parse_event_filter("ns=a,b&types=put,planner");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(f->namespaces, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(f->types[0]);
  EXPECT_FALSE(f->types[1]);
  EXPECT_TRUE(f->types[2]);
  EXPECT_TRUE(parse_event_filter("").is_ok());
  for (const char* bad : {"types=puts", "ns=../x", "ns=a,,b", "types=", "since=3", "ns=%zz"}) {
    EXPECT_EQ(parse_event_filter(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PublishingCache, PublishesStoredPutsWithTheLaneTiers) {
  EventBus bus(manual());
  auto sink = std::make_shared<FakeSink>();
  auto sub = subscribe_all(bus, sink);
  CacheOptions options;
  MemoryTierOptions l1;
  l1.removal_listener = bus.removal_listener();
  options.tiers.push_back(std::move(new_memory_tier(l1)).value());
  auto policies = std::make_shared<NamespacePolicies>();
  NamespacePolicy only_l1;
  only_l1.tiers = {TierKind::kMemory};
  ASSERT_TRUE(policies->set("mem", only_l1).is_ok());
  options.policies = policies;
  options.max_value_bytes = 8;
  PublishingCache cache(std::move(new_cache(std::move(options))).value(), bus, policies,
                        {TierKind::kMemory, TierKind::kDisk});
  PutOptions put;
  put.tags = {"t"};
  put.compute_ms = 5;
  put.ttl_ms = 0;
  ASSERT_TRUE(cache.put(plan("a", "mem"), std::make_shared<const Bytes>("{}"), put).is_ok());
  ASSERT_TRUE(cache.put(plan("a", "mem"), std::make_shared<const Bytes>("[1]"), put).is_ok());
  const auto too_big = std::make_shared<const Bytes>("[1,2,3,4,5,6]");
  ASSERT_FALSE(cache.put(plan("b", "mem"), too_big, put).is_ok());  // refused: no event
  bus.dispatch();
  sink->complete_all();
  const auto events = parse(sink->text());
  ASSERT_EQ(events.size(), 3u);  // put, remove (replaced), put
  EXPECT_EQ(events[0].data["tiers"], json::parse(R"(["l1"])"));
  EXPECT_EQ(events[0].data["tags"], json::parse(R"(["t"])"));
  EXPECT_EQ(events[0].data["compute_ms"], 5);
  EXPECT_EQ(events[1].data["cause"], "replaced");
  EXPECT_EQ(events[2].data["bytes"], 3);
}

}  // namespace
}  // namespace plancache::internal

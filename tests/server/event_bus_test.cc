// EventBus, EventSubscriber and PublishingCache (server/event_bus.h,
// event_subscriber.h): order per subscriber, filters,
// the causes of L1 removals through a real memory tier, the bounded buffer
// and its drop with a final event, overflow, readers that leave, and a
// publisher that never waits for a reader. Orderings are forced: most tests
// run the dispatcher's rounds themselves (start_dispatcher = false) and
// complete the fake sink's writes one by one; none asserts a duration.
#include "server/event_bus.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "plancache/memory_tier.h"
#include "server/event_subscriber.h"
#include "server/event_test_support.h"

namespace plancache::internal {
namespace {

using nlohmann::json;

void publish_puts(EventBus& bus, int n, const std::string& ns = "default") {
  for (int i = 0; i < n; ++i) bus.publish_put(plan("k" + std::to_string(i), ns), {}, 10, 1);
}

std::shared_ptr<EventSubscriber> subscribe(EventBus& bus, const std::shared_ptr<FakeSink>& sink,
                                           EventFilter filter = {}) {
  auto s = bus.subscribe(std::move(filter), sink);
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return s.is_ok() ? *s : nullptr;
}

TEST(EventBus, WithoutSubscriberNothingIsQueued) {
  EventBus bus(manual());
  EXPECT_FALSE(bus.active());
  publish_puts(bus, 10);
  bus.publish_planner(plan("k"), Event{});
  EXPECT_EQ(bus.dispatch(), 0u);
  EXPECT_EQ(bus.stats().published, 0u);
}

TEST(EventBus, EventsArriveInPublishOrderWithIncreasingIds) {
  EventBus bus(manual());
  auto sink = std::make_shared<FakeSink>();
  auto sub = subscribe(bus, sink);
  ASSERT_TRUE(bus.active());
  bus.publish_put(plan("a"), {}, 3, 1);
  Event start;
  bus.publish_planner(plan("b"), start);
  bus.removal_listener()(plan("a"), nullptr, RemovalCause::kReplaced);
  publish_puts(bus, 50);
  // Rounds of a few events at a time, each write completed after it.
  while (bus.dispatch() != 0) sink->complete_all();
  sink->complete_all();
  const std::vector<Parsed> events = parse(sink->text());
  ASSERT_EQ(events.size(), 53u);
  EXPECT_EQ(events[0].event, "put");
  EXPECT_EQ(events[0].data["key"], "a");
  EXPECT_EQ(events[1].event, "planner");
  EXPECT_EQ(events[1].data["phase"], "start");
  EXPECT_EQ(events[2].event, "remove");
  EXPECT_EQ(events[2].data["cause"], "replaced");
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].id, i + 1);
  for (size_t i = 3; i < events.size(); ++i) {
    EXPECT_EQ(events[i].data["key"], "k" + std::to_string(i - 3));
  }
}

TEST(EventBus, OneWriteIsOutAtATimeAndTheRestIsBatched) {
  EventBus bus(manual());
  auto sink = std::make_shared<FakeSink>();
  auto sub = subscribe(bus, sink);
  publish_puts(bus, 1);
  bus.dispatch();
  EXPECT_EQ(sink->pending(), 1u);
  publish_puts(bus, 5);
  bus.dispatch();
  EXPECT_EQ(sink->pending(), 1u);  // the five wait for the first write
  sink->complete();
  EXPECT_EQ(sink->pending(), 1u);  // ... and go out as one
  sink->complete();
  EXPECT_EQ(parse(sink->text()).size(), 6u);
}

TEST(EventBus, FiltersByNamespaceAndType) {
  EventBus bus(manual());
  auto sink = std::make_shared<FakeSink>();
  EventFilter filter;
  filter.namespaces = {"heavy"};
  filter.types = {false, true, false};  // remove only
  auto sub = subscribe(bus, sink, filter);
  publish_puts(bus, 3, "heavy");
  bus.removal_listener()(plan("x", "docs"), nullptr, RemovalCause::kExpired);
  bus.removal_listener()(plan("y", "heavy"), nullptr, RemovalCause::kExpired);
  bus.dispatch();
  sink->complete_all();
  const auto events = parse(sink->text());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data["key"], "y");
  EXPECT_EQ(events[0].data["cause"], "expired");
}

TEST(EventBus, ASubscriberSeesOnlyWhatIsPublishedAfterItSubscribed) {
  EventBus bus(manual());
  auto first = std::make_shared<FakeSink>();
  auto a = subscribe(bus, first);
  publish_puts(bus, 2);
  auto second = std::make_shared<FakeSink>();
  auto b = subscribe(bus, second);  // before the dispatcher took the two
  publish_puts(bus, 1);
  bus.dispatch();
  first->complete_all();
  second->complete_all();
  EXPECT_EQ(parse(first->text()).size(), 3u);
  const auto late = parse(second->text());
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].id, 3u);
}

// The causes, as L1 reports them: the bus is the memory tier's listener.
TEST(EventBus, RemovalCausesOfARealMemoryTier) {
  EventBus bus(manual());
  auto sink = std::make_shared<FakeSink>();
  auto sub = subscribe(bus, sink);
  auto clock = std::make_shared<FakeClock>(1'000'000);
  MemoryTierOptions options;
  options.max_entries = 2;
  options.shards = 1;
  options.clock = clock;
  options.removal_listener = bus.removal_listener();
  auto tier = std::move(new_memory_tier(options)).value();
  auto entry = [&](int64_t expires_ms) {
    auto e = std::make_shared<Entry>();
    e->value = std::make_shared<const Bytes>("v");
    e->meta.expires_ms = expires_ms;
    return EntryPtr(e);
  };
  ASSERT_TRUE(tier->put(plan("a"), entry(0)).is_ok());
  ASSERT_TRUE(tier->put(plan("a"), entry(0)).is_ok());              // replaced
  ASSERT_TRUE(tier->erase(plan("a")).is_ok());                      // invalidated (DELETE)
  ASSERT_TRUE(tier->put(plan("t"), entry(clock->now_ms() + 5)).is_ok());
  clock->advance_ms(10);
  ASSERT_TRUE(tier->get(plan("t")).is_ok());                        // expired
  for (const char* k : {"b", "c", "d"}) ASSERT_TRUE(tier->put(plan(k), entry(0)).is_ok());  // evicted
  {
    const ScopedEvictionCause pressure(EventCause::kPressure);
    ASSERT_TRUE(tier->evict_fraction(1.0).is_ok());                 // pressure
  }
  ASSERT_TRUE(tier->put(plan("e"), entry(0)).is_ok());
  Selector all;
  ASSERT_TRUE(tier->invalidate(all).is_ok());                       // invalidated
  bus.dispatch();
  sink->complete_all();
  std::vector<std::string> causes;
  for (const Parsed& e : parse(sink->text())) causes.push_back(e.data["cause"]);
  EXPECT_EQ(causes, (std::vector<std::string>{"replaced", "invalidated", "expired", "evicted",
                                              "pressure", "pressure", "invalidated"}));
}

TEST(EventBus, ScopedEvictionCauseNestsAndIsPerThread) {
  EXPECT_EQ(event_cause(RemovalCause::kSize), EventCause::kEvicted);
  {
    const ScopedEvictionCause outer(EventCause::kEvicted);
    EXPECT_EQ(event_cause(RemovalCause::kInvalidated), EventCause::kEvicted);
    {
      const ScopedEvictionCause inner(EventCause::kPressure);
      EXPECT_EQ(event_cause(RemovalCause::kSize), EventCause::kPressure);
      EXPECT_EQ(event_cause(RemovalCause::kExpired), EventCause::kExpired);  // not an eviction
      EXPECT_EQ(event_cause(RemovalCause::kReplaced), EventCause::kReplaced);
      std::thread other([] { EXPECT_EQ(event_cause(RemovalCause::kSize), EventCause::kEvicted); });
      other.join();
    }
    EXPECT_EQ(event_cause(RemovalCause::kSize), EventCause::kEvicted);
  }
  EXPECT_EQ(event_cause(RemovalCause::kInvalidated), EventCause::kInvalidated);
  EXPECT_EQ(event_cause(RemovalCause::kExplicit), EventCause::kInvalidated);
}

TEST(EventBus, RemovalSinksHearEveryRemovalWithOrWithoutSubscribers) {
  std::vector<RemovalCause> heard;
  EventBusOptions options = manual();
  options.removal_sinks.push_back(
      [&heard](const CacheKey&, const EntryPtr&, RemovalCause cause) { heard.push_back(cause); });
  EventBus bus(std::move(options));
  bus.removal_listener()(plan("a"), nullptr, RemovalCause::kSize);
  auto sink = std::make_shared<FakeSink>();
  auto sub = subscribe(bus, sink);
  bus.removal_listener()(plan("b"), nullptr, RemovalCause::kExpired);
  EXPECT_EQ(heard, (std::vector<RemovalCause>{RemovalCause::kSize, RemovalCause::kExpired}));
  EXPECT_EQ(bus.stats().published, 1u);
}

// The bounded buffer: the reader never completes its first write, so the
// events after it pile up; one past the bound drops it. Its stream then
// ends with the final event, once that write is out.
TEST(EventBus, ASlowSubscriberIsDroppedWithAFinalEvent) {
  EventBus bus(manual(/*buffer=*/4));
  auto slow = std::make_shared<FakeSink>();
  auto fast = std::make_shared<FakeSink>();
  auto s = subscribe(bus, slow);
  auto f = subscribe(bus, fast);
  // One event per round; the fast reader takes each at once, the slow one
  // never: its event 1 stays out, 2..5 are buffered, 6 overflows.
  for (int i = 0; i < 10; ++i) {
    bus.publish_put(plan("k" + std::to_string(i)), {}, 10, 1);
    bus.dispatch();
    fast->complete_all();
  }
  EXPECT_TRUE(s->dropped());
  EXPECT_FALSE(f->dropped());
  EXPECT_EQ(bus.stats().dropped_subscribers, 1u);
  EXPECT_EQ(bus.stats().subscribers, 1u);
  EXPECT_FALSE(slow->ended());  // its write is still out
  slow->complete();             // the reader finally reads
  ASSERT_TRUE(slow->ended());
  const auto events = parse(slow->text());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, 1u);
  EXPECT_EQ(events[1].event, "dropped");
  EXPECT_EQ(events[1].data, json::parse(R"({"reason":"slow","missed":5,"last_id":1})"));
  EXPECT_EQ(parse(fast->text()).size(), 10u);  // the fast one missed nothing
}

TEST(EventBus, AReaderThatLeftIsDetachedWithoutCountingADrop) {
  EventBus bus(manual());
  auto sink = std::make_shared<FakeSink>();
  auto sub = subscribe(bus, sink);
  publish_puts(bus, 1);
  bus.dispatch();
  sink->complete(/*sent=*/false);
  EXPECT_TRUE(sub->closed());
  EXPECT_EQ(bus.stats().subscribers, 0u);
  EXPECT_EQ(bus.stats().dropped_subscribers, 0u);
  EXPECT_FALSE(bus.active());
}

TEST(EventBus, AFullQueueLosesEventsAndDropsEverySubscriber) {
  EventBusOptions options = manual();
  options.max_queued = 8;
  EventBus bus(std::move(options));
  auto sink = std::make_shared<FakeSink>();
  auto sub = subscribe(bus, sink);
  publish_puts(bus, 20);
  EXPECT_EQ(bus.stats().lost, 12u);
  bus.dispatch();
  sink->complete_all();
  ASSERT_TRUE(sink->ended());
  // Event 1 was out when the round dropped it: 2..8 buffered are discarded
  // with the 12 lost, and the drop says where the gap starts.
  const auto events = parse(sink->text());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, 1u);
  EXPECT_EQ(events[1].event, "dropped");
  EXPECT_EQ(events[1].data, json::parse(R"({"reason":"overflow","missed":19,"last_id":1})"));
  EXPECT_EQ(bus.stats().dropped_subscribers, 1u);
}

TEST(EventBus, HeartbeatOnlyWhenSilent) {
  EventBus bus(manual());
  auto sink = std::make_shared<FakeSink>();
  auto sub = subscribe(bus, sink);
  const auto later = std::chrono::steady_clock::now() + std::chrono::hours(1);
  sub->heartbeat(std::chrono::steady_clock::now(), std::chrono::hours(1));
  EXPECT_EQ(sink->pending(), 0u);  // not silent long enough
  sub->heartbeat(later, std::chrono::seconds(1));
  EXPECT_EQ(sink->text(), kEventHeartbeat);
  sub->heartbeat(later, std::chrono::seconds(1));  // a write is out: nothing more
  EXPECT_EQ(sink->pending(), 1u);
}

TEST(EventBus, CloseAllSendsWhatIsBufferedAndEndsEveryStream) {
  EventBus bus(manual());
  auto sink = std::make_shared<FakeSink>();
  auto sub = subscribe(bus, sink);
  publish_puts(bus, 3);
  bus.dispatch();  // 1 out, 2 and 3 buffered
  bus.close_all();
  ASSERT_TRUE(sink->ended());
  EXPECT_EQ(parse(sink->end_text()).size(), 2u);
  EXPECT_FALSE(bus.subscribe({}, std::make_shared<FakeSink>()).is_ok());
  EXPECT_FALSE(bus.has_room());
}

TEST(EventBus, RefusesSubscribersPastTheBound) {
  EventBusOptions options = manual();
  options.max_subscribers = 1;
  EventBus bus(std::move(options));
  auto a = subscribe(bus, std::make_shared<FakeSink>());
  auto b = bus.subscribe({}, std::make_shared<FakeSink>());
  ASSERT_FALSE(b.is_ok());
  EXPECT_EQ(b.status().code(), StatusCode::kUnavailable);
}

// The cache never waits: with the real dispatcher running, a publisher
// pushes 100,000 events while the only reader never completes a write. The
// publisher finishes (joined, no bound on time asserted) and the reader is
// dropped; from then on nobody listens and publishing is the relaxed load.
TEST(EventBus, APublisherNeverWaitsForAReaderThatNeverReads) {
  EventBusOptions options;
  options.subscriber_buffer = 64;
  options.heartbeat = std::chrono::milliseconds(0);
  EventBus bus(std::move(options));
  auto sink = std::make_shared<FakeSink>();
  auto sub = subscribe(bus, sink);
  publish_puts(bus, 1);
  sink->wait_writes(1);  // forced: the reader's first write is out, and stays out
  constexpr int kEvents = 100'000;
  std::thread publisher([&bus] { publish_puts(bus, kEvents); });
  publisher.join();
  EXPECT_LE(bus.stats().published + bus.stats().lost, kEvents + 1u);
  // Forced: the dispatcher catches up with the 100,000 and drops the reader.
  while (!sub->dropped()) std::this_thread::yield();
  sink->complete();  // the reader reads at last: the final event ends the stream
  sink->wait_ended();
  EXPECT_TRUE(sub->dropped());
  EXPECT_EQ(bus.stats().dropped_subscribers, 1u);
  EXPECT_EQ(bus.stats().subscribers, 0u);
  EXPECT_FALSE(bus.active());
  EXPECT_NE(sink->end_text().find("event: dropped"), std::string::npos);
}

}  // namespace
}  // namespace plancache::internal

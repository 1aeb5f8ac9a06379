// SseParser (cli/event_stream.h): the Server-Sent Events line format as
// `plancache events` reads it -- any line ending, comments, several data
// lines, events split anywhere across reads, and stopping early.
#include "cli/event_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace plancache::cli {
namespace {

std::vector<SseEvent> parse_in_pieces(const std::string& text, size_t piece) {
  SseParser parser;
  std::vector<SseEvent> events;
  for (size_t i = 0; i < text.size(); i += piece) {
    parser.feed(std::string_view(text).substr(i, piece), [&](const SseEvent& e) {
      events.push_back(e);
      return true;
    });
  }
  return events;
}

TEST(SseParser, EventsCommentsAndLineEndingsInAnyPieces) {
  const std::string text =
      ": subscribed\n\n"
      "event: put\nid: 1\ndata: {\"a\":1}\n\n"
      ": heartbeat\r\n\r\n"
      "event: remove\r\nid: 2\r\ndata: {\"b\":2}\r\n\r\n"
      "data:first\rdata: second\r\r"
      "event: ignored without data\n\n";
  for (size_t piece : {1u, 2u, 7u, 1000u}) {
    const std::vector<SseEvent> events = parse_in_pieces(text, piece);
    ASSERT_EQ(events.size(), 3u) << piece;
    EXPECT_EQ(events[0].event, "put");
    EXPECT_EQ(events[0].id, "1");
    EXPECT_EQ(events[0].data, "{\"a\":1}");
    EXPECT_EQ(events[1].event, "remove");
    EXPECT_EQ(events[1].data, "{\"b\":2}");
    EXPECT_EQ(events[2].event, "message");
    EXPECT_EQ(events[2].data, "first\nsecond");
  }
}

TEST(SseParser, StopsWhenTheCallbackSaysSo) {
  SseParser parser;
  int seen = 0;
  const bool more = parser.feed("data: 1\n\ndata: 2\n\n", [&](const SseEvent&) {
    ++seen;
    return false;
  });
  EXPECT_FALSE(more);
  EXPECT_EQ(seen, 1);
}

}  // namespace
}  // namespace plancache::cli

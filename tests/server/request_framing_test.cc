// check_request_framing: the framing rules a request head must pass before
// any of its body is read (RFC 9112 §3.2, §6.1, §6.3). Over the wire the
// same rules are exercised by tests/integration/test_http_limits.py.
#include "server/request_framing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;

HttpRequest head(unsigned version, const std::vector<std::pair<std::string, std::string>>& fields) {
  HttpRequest req{http::verb::post, "/v1/plans", version};
  for (const auto& [name, value] : fields) req.insert(name, value);
  return req;
}

TEST(RequestFraming, PlainAndChunkedRequestsPass) {
  EXPECT_TRUE(check_request_framing(head(11, {{"Host", "a"}})).is_ok());
  EXPECT_TRUE(
      check_request_framing(head(11, {{"Host", "a"}, {"Transfer-Encoding", "chunked"}})).is_ok());
  EXPECT_TRUE(
      check_request_framing(head(11, {{"Host", "a"}, {"Transfer-Encoding", " CHUNKED "}})).is_ok());
  EXPECT_TRUE(check_request_framing(head(10, {})).is_ok());  // HTTP/1.0 needs no Host
}

TEST(RequestFraming, EveryCodingListButExactlyChunkedIsRefused) {
  for (const char* te : {"xchunked", "identity", "chunked, gzip", "gzip, chunked",
                         "chunked, chunked", "gzip", "", "chunked;q=1", ","}) {
    const Status s = check_request_framing(head(11, {{"Host", "a"}, {"Transfer-Encoding", te}}));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "Transfer-Encoding: '" << te << "'";
    EXPECT_NE(s.message().find("Transfer-Encoding"), std::string::npos) << s.message();
  }
}

TEST(RequestFraming, SeveralTransferEncodingFieldsAreOneList) {
  const Status s = check_request_framing(
      head(11, {{"Host", "a"}, {"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}}));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("gzip, chunked"), std::string::npos) << s.message();
}

TEST(RequestFraming, TransferEncodingInHttp10IsRefused) {
  const Status s = check_request_framing(head(10, {{"Transfer-Encoding", "chunked"}}));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("HTTP/1.0"), std::string::npos) << s.message();
}

TEST(RequestFraming, Http11NeedsExactlyOneHost) {
  const Status none = check_request_framing(head(11, {}));
  EXPECT_EQ(none.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(none.message().find("without a Host"), std::string::npos) << none.message();
  const Status two = check_request_framing(head(11, {{"Host", "a"}, {"Host", "b"}}));
  EXPECT_EQ(two.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(two.message().find("2 Host headers"), std::string::npos) << two.message();
}

}  // namespace
}  // namespace plancache::internal

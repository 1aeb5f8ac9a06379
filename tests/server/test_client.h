// A small synchronous-looking HTTP/1.1 client for the server tests, built on
// Beast's async operations run to completion on a private io_context, so
// that every operation is bounded by a timeout (a hung server fails the
// test instead of hanging it).
#pragma once

// clang-format off
#include <ostream>  // first: Boost 1.74's boost/utility/string_view.hpp needs it
// clang-format on

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace plancache::testing {

struct HttpAnswer {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names as sent
  bool keep_alive = false;

  nlohmann::json json() const { return nlohmann::json::parse(body); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class TestClient {
 public:
  // Connects to 127.0.0.1:port. `timeout` bounds every later operation.
  explicit TestClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Sends one request on this connection and reads the answer.
  // `headers` are "Name: value" lines added to the request.
  HttpAnswer request(boost::beast::http::verb method, std::string_view target,
                     std::string_view body = {}, std::map<std::string, std::string> headers = {});

  // Low-level pieces, for tests of partial and malformed requests.
  void send_raw(std::string_view bytes);
  HttpAnswer read_answer();
  // Reads raw bytes until `marker` appears; returns them (bounded).
  std::string read_until(std::string_view marker);
  // True when the server closes the connection (EOF or reset) before
  // `timeout` runs out; false on a timeout or data.
  bool closed_by_server(std::chrono::milliseconds timeout);

  bool ok() const { return !failed_; }

 private:
  template <typename Start>
  boost::beast::error_code run(Start&& start, std::chrono::milliseconds timeout);

  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::chrono::milliseconds timeout_;
  bool failed_ = false;
};

}  // namespace plancache::testing

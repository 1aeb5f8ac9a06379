// Test helper: a scripted HTTP/1.1 peer on 127.0.0.1 (ephemeral port) that
// keeps connections alive, one thread per connection, and answers each
// request with what a test function returns. It counts the connections it
// accepted, records every request, and can hold requests until a number of
// them are in flight at once (to observe a client's concurrency without
// timing assumptions; the hold is bounded by kHoldLimit).
//
// The destructor shuts down every open connection, so a test never hangs on
// a client that keeps one open.
#pragma once

#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace plancache::cli::test_support {

struct ScriptedReply {
  int status = 200;
  std::string body;
  bool keep_alive = true;  // false: "Connection: close" and close after the answer
  bool drop_after = false;  // close after the answer without saying so
  bool never_answer = false;  // read the request, answer nothing (until shutdown)
};

class ScriptedHttpServer {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Script = std::function<ScriptedReply(const Request&)>;
  static constexpr std::chrono::seconds kHoldLimit{20};

  explicit ScriptedHttpServer(Script script)
      : script_(std::move(script)),
        acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~ScriptedHttpServer() {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
      cv_.notify_all();
    }
    boost::asio::io_context ioc;  // wakes the blocking accept()
    boost::asio::ip::tcp::socket poke(ioc);
    boost::beast::error_code ec;
    poke.connect({boost::asio::ip::make_address("127.0.0.1"), port()}, ec);
    accept_thread_.join();
    for (std::thread& session : sessions_) session.join();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }

  // The first `n` requests are answered only once all `n` are in flight
  // together (or kHoldLimit passed); later ones at once. 0 = no hold.
  void hold_until_in_flight(int n) {
    const std::lock_guard<std::mutex> lock(mu_);
    hold_until_ = n;
  }

  int connections() const {
    const std::lock_guard<std::mutex> lock(mu_);
    return connections_;
  }
  int max_in_flight() const {
    const std::lock_guard<std::mutex> lock(mu_);
    return max_in_flight_;
  }
  std::vector<Request> requests() const {
    const std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void accept_loop() {
    for (;;) {
      boost::asio::ip::tcp::socket socket(ioc_);
      boost::beast::error_code ec;
      acceptor_.accept(socket, ec);
      const std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      if (ec) continue;
      ++connections_;
      open_fds_.push_back(socket.native_handle());
      sessions_.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  }

  void serve(boost::asio::ip::tcp::socket socket) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    for (;;) {
      Request request;
      boost::beast::error_code ec;
      http::read(socket, buffer, request, ec);
      if (ec) break;
      const ScriptedReply reply = script_(request);
      if (!admit(request, reply.never_answer)) break;
      http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
      res.set(http::field::content_type, "application/json");
      res.body() = reply.body;
      res.keep_alive(reply.keep_alive && request.keep_alive());
      res.prepare_payload();
      http::write(socket, res, ec);
      leave();
      if (ec || !res.keep_alive() || reply.drop_after) break;
    }
    boost::beast::error_code ignored;
    socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    const std::lock_guard<std::mutex> lock(mu_);
    std::erase(open_fds_, socket.native_handle());
  }

  // Records the request and waits for the hold; false: stop serving.
  bool admit(const Request& request, bool never_answer) {
    std::unique_lock<std::mutex> lock(mu_);
    requests_.push_back(request);
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    cv_.notify_all();
    const bool held = static_cast<int>(requests_.size()) <= hold_until_;
    cv_.wait_for(lock, kHoldLimit, [&] {
      return stopping_ || (!never_answer && (!held || in_flight_ >= hold_until_));
    });
    if (never_answer || stopping_) {
      --in_flight_;
      return false;
    }
    return true;
  }

  void leave() {
    const std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
  }

  Script script_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread accept_thread_;
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  bool stopping_ = false;
  int hold_until_ = 0;
  int connections_ = 0;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  std::vector<int> open_fds_;
  std::vector<Request> requests_;
  std::vector<std::thread> sessions_;  // joined by the destructor
};

}  // namespace plancache::cli::test_support

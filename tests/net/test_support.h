// Shared by the net tests: a request for the scripted peers, and a bounded
// wait for a condition another thread (or the kernel) makes true.
#pragma once

#include <chrono>
#include <thread>

#include "net/blocking_http_connection.h"

namespace plancache::internal::net_test {

using Clock = std::chrono::steady_clock;

inline Clock::time_point in(std::chrono::milliseconds ms) { return Clock::now() + ms; }

inline HttpRequestMessage get(const char* target, bool keep_alive = true) {
  HttpRequestMessage req{boost::beast::http::verb::get, target, 11};
  req.set(boost::beast::http::field::host, "127.0.0.1");
  req.keep_alive(keep_alive);
  req.prepare_payload();
  return req;
}

// Polls `done` every millisecond until it holds or `limit` passed; returns
// its last value. The limit only bounds a failing test.
template <typename Pred>
bool eventually(Pred done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const Clock::time_point end = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= end) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace plancache::internal::net_test

// The waiting side and the lookup thread share one Lookup through a
// shared_ptr, so whichever finishes last frees it: the caller may leave at
// its deadline without joining the thread.
#include "net/host_resolver.h"

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

namespace plancache::internal {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Lookup {
  std::mutex mu;  // guards result
  std::condition_variable done;
  std::optional<Result<TcpEndpoints>> result;
};

Status cannot_resolve(const std::string& host, const std::string& cause) {
  return Status::unavailable("cannot resolve '" + host + "': " + cause);
}

}  // namespace

HostResolver system_resolver() {
  return [](const std::string& host, uint16_t port) -> Result<TcpEndpoints> {
    asio::io_context ioc;  // the synchronous resolve() runs nothing on it
    tcp::resolver resolver(ioc);
    boost::system::error_code ec;
    const tcp::resolver::results_type found = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return cannot_resolve(host, ec.message());
    TcpEndpoints out;
    for (const auto& entry : found) out.push_back(entry.endpoint());
    if (out.empty()) return cannot_resolve(host, "no address");
    return out;
  };
}

Result<TcpEndpoints> resolve_before(const HostResolver& resolver, const std::string& host,
                                    uint16_t port, std::chrono::steady_clock::time_point deadline) {
  boost::system::error_code not_literal;
  const asio::ip::address literal = asio::ip::make_address(host, not_literal);
  if (!not_literal) return TcpEndpoints{tcp::endpoint(literal, port)};

  auto lookup = std::make_shared<Lookup>();
  try {
    std::thread([lookup, resolver, host, port] {
      Result<TcpEndpoints> found = cannot_resolve(host, "the lookup failed");
      try {
        found = resolver(host, port);
      } catch (const std::exception& e) {
        found = cannot_resolve(host, e.what());
      }
      const std::lock_guard<std::mutex> lock(lookup->mu);
      lookup->result.emplace(std::move(found));
      lookup->done.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    return cannot_resolve(host, std::string("cannot start a lookup: ") + e.what());
  }
  std::unique_lock<std::mutex> lock(lookup->mu);
  if (!lookup->done.wait_until(lock, deadline, [&] { return lookup->result.has_value(); })) {
    return Status::deadline_exceeded("resolving " + host);
  }
  return std::move(*lookup->result);
}

}  // namespace plancache::internal

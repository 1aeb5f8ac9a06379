// Name resolution with a deadline, for the blocking HTTP connection.
//
// getaddrinfo cannot be cancelled (Asio's resolver runs it on a private
// thread, and cancelling only reports operation_aborted once it returns), so
// a resolver that hangs would hold a caller past its deadline. Here the
// lookup runs on a thread of its own and the caller waits for it at most
// until the deadline; a lookup still running then is abandoned: its thread
// finishes whenever getaddrinfo gives up (resolv.conf's timeout × attempts)
// and frees what it shares with the caller. An IP literal is never looked up.
//
// Thread-safety: resolve_before() may be called from any thread; a
// HostResolver must be callable from a thread of its own.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "plancache/status.h"

namespace plancache::internal {

using TcpEndpoints = std::vector<boost::asio::ip::tcp::endpoint>;

// A blocking lookup of host:port. Returns at least one endpoint, or a
// Status whose message names the host and the cause. It may take as long as
// it likes: resolve_before() bounds the wait, not the lookup.
using HostResolver = std::function<Result<TcpEndpoints>(const std::string& host, uint16_t port)>;

// The system's resolver (getaddrinfo through Asio). Errors: unavailable,
// "cannot resolve '<host>': <cause>".
HostResolver system_resolver();

// The endpoints for host:port: the address itself for an IP literal,
// otherwise what `resolver` finds, if it finds it before `deadline`.
// Errors: deadline_exceeded "resolving <host>" when the deadline passed
// first; otherwise the resolver's error.
Result<TcpEndpoints> resolve_before(const HostResolver& resolver, const std::string& host,
                                    uint16_t port, std::chrono::steady_clock::time_point deadline);

}  // namespace plancache::internal

// Service: the HTTP API without the networking. Owns the Cache built from
// the configuration (an L1 with a lane per configured namespace, the disk
// tier when there is a data directory, the namespace policies) and answers one
// parsed request at a time: route, method check (405 + Allow), token check,
// then the endpoint handler. The HTTP sessions own the sockets and call
// handle() for each request they read.
//
// Thread-safety: handle() may be called concurrently from every I/O thread.
#pragma once

#include <memory>

#include "plancache/status.h"
#include "server/config.h"
#include "server/handlers/handlers.h"

namespace plancache::internal {

class Service {
 public:
  // Builds the cache and key builder, and wipes the non-persistent
  // namespaces from the disk tier. Errors: invalid_argument for a bad hash
  // name, namespace policy or memory-tier bounds; the disk tier's errors
  // (new_disk_tier), prefixed with the flag to blame.
  static Result<std::unique_ptr<Service>> create(const server::ServerConfig& config);

  // Fills status, headers and body of `res` for `req`. The caller sets the
  // HTTP version and keep-alive. Never throws. Returns true when the handler
  // deferred its answer: it called `open_channel` (at most once) and will
  // answer through that channel later; `res` is then left unfilled.
  bool handle(const HttpRequest& req, HttpResponse& res, const DeferFn& open_channel);

  // Checks a request whose head is parsed, before its body is read: framing
  // (request_framing.h), route, method and tokens. Unless kPass, `res` holds
  // the error (counted). A misframed request must be answered with a close;
  // a refused one too while its body is still unread, so that no
  // unauthenticated or misframed body is ever buffered.
  enum class HeadCheck { kPass, kRefused, kMisframed };
  HeadCheck screen_head(const HttpRequest& head, HttpResponse& res);

  // Fills `res` with an error for a request that could not be read (bad
  // HTTP, header or body too large) and counts it.
  void reject_unparsed(HttpResponse& res, boost::beast::http::status status, std::string_view code,
                       std::string_view message);

  // /readyz answers 503 from now on.
  // Stops taking new work: keep-alive connections close after their answer,
  // and read-through planner runs get --stop-grace-ms to finish.
  void set_draining();

  ServiceState& state() { return state_; }

 private:
  explicit Service(const server::ServerConfig& config);
  void dispatch(Route route, Call& call);
  // Fills `res` and returns true when `route` is unknown, the method is not
  // allowed or the tokens do not let `head` through.
  bool refuse(const HttpRequest& head, Route route, HttpResponse& res);

  ServiceState state_;
};

}  // namespace plancache::internal

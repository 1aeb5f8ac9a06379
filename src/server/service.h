// Service: the HTTP API without the networking and without construction.
// It answers one parsed request at a time: route, method check (405 +
// Allow), token check, then the endpoint handler, which receives only what
// it uses (handlers.h); deferred answers are counted through a decorated
// reply channel. The running objects come from the composition root
// (composition.h); the HTTP sessions own the sockets and call handle() for
// each request they read, as Beast's handle_request is called by its
// sessions and knows nothing of them.
//
// Ownership: holds references only. REQUIRES: the Runtime, the counters and
// the drain flag outlive the Service.
// Thread-safety: every method may be called concurrently from every I/O
// thread; nothing in it changes after construction.
#pragma once

#include <memory>

#include "plancache/status.h"
#include "server/auth.h"
#include "server/composition.h"
#include "server/config.h"
#include "server/drain.h"
#include "server/handlers/handlers.h"
#include "server/metrics.h"

namespace plancache::internal {

class Service {
 public:
  // `config` gives the tokens, cache_enabled, stats_max_namespaces and the
  // SSE heartbeat; it is not kept.
  Service(Runtime& runtime, const server::ServerConfig& config, HttpCounters& http,
          const DrainFlag& draining);
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Fills status, headers and body of `res` for `req`. The caller sets the
  // HTTP version and keep-alive. Never throws. Returns true when the handler
  // deferred its answer: it called `open_channel` (at most once) and will
  // answer through that channel later; `res` is then left unfilled.
  // REQUIRES: screen_head(req) returned kPass (route, method and tokens are
  // not checked again here: once per request, on the hot path too).
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

 private:
  void dispatch(Route route, Call& call);
  // Whether a request may wait on the shared tier as a whole (writes,
  // invalidations, the entries store): it then runs on shared_calls_.
  bool runs_off_loop(Route route, const HttpRequest& req) const;
  // Runs dispatch() for `req` on shared_calls_ and answers through `call`'s
  // channel. REQUIRES: shared_calls_.
  void dispatch_off_loop(Route route, Call& call);
  // Fills `res` and returns true when `route` is unknown, the method is not
  // allowed or the tokens do not let `head` through.
  bool refuse(const HttpRequest& head, Route route, HttpResponse& res);

  Cache& cache_;
  boost::asio::thread_pool* const shared_calls_;  // null without a shared tier
  HttpCounters& http_;
  const AuthTokens tokens_;
  const PlanHandlers plans_;
  const InfoHandlers info_;
  EventBus& events_;  // GET /v1/events
};

}  // namespace plancache::internal

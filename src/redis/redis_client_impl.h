// RedisClientImpl: the one implementation of RedisClient (private).
//
// Layout: redis_client.cc (construction, routing, redirects),
// redis_topology.cc (mode detection, slot-map refresh, background thread).
//
// Locks, never nested: mu_ (nodes_, map_), refresh_mu_ (one refresh at a
// time), bg_mu_ (the background thread's queue). User callbacks
// (on_node_state, log) run with none of them held.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "redis/cluster_map.h"
#include "redis/redis_client.h"
#include "redis/redis_node.h"

namespace plancache::internal {

class RedisClientImpl final : public RedisClient {
 public:
  explicit RedisClientImpl(RedisClientOptions options);
  ~RedisClientImpl() override;

  Result<RedisReply> command(std::string_view routing_key, const RedisArgs& args) override;
  Result<std::vector<RedisReply>> pipeline(std::string_view routing_key,
                                           const std::vector<RedisArgs>& commands) override;
  Result<RedisReply> command_on(const RedisEndpoint& node, const RedisArgs& args) override;
  std::vector<RedisEndpoint> masters() const override;
  uint64_t topology_version() const override { return topology_version_.load(); }
  bool is_cluster() const override { return mode_.load() == Mode::kCluster; }
  bool connected() const override;
  RedisClientStats stats() const override;
  const RedisClientOptions& options() const override { return options_; }

 private:
  enum class Mode { kUnknown, kStandalone, kCluster };

  Result<std::vector<RedisReply>> run(std::string_view routing_key,
                                      const std::vector<const RedisArgs*>& commands);
  Result<std::vector<RedisReply>> run_cluster(uint16_t slot,
                                              const std::vector<const RedisArgs*>& commands);
  std::shared_ptr<RedisNode> node(const RedisEndpoint& endpoint);
  std::shared_ptr<const SlotMap> slot_map() const;
  std::optional<RedisEndpoint> route(uint16_t slot);

  // redis_topology.cc
  Result<Mode> ensure_mode();
  Status refresh_topology();
  SteadyTime refresh_due();
  // Probes the open nodes that are due; refreshes the slot map while a
  // master is open. Returns when it wants to run again.
  SteadyTime probe_open_nodes();
  void install_map(SlotMap map, const RedisEndpoint& from);
  void apply_moved(uint16_t slot, const RedisEndpoint& node);
  void request_refresh() const;
  void enqueue_event(NodeEvent event);
  void background_loop();
  void log(std::string_view level, const std::string& message) const;

  const RedisClientOptions options_;
  std::atomic<Mode> mode_{Mode::kUnknown};
  std::atomic<uint64_t> topology_version_{0};
  std::atomic<uint64_t> moved_{0}, ask_{0}, tryagain_{0}, clusterdown_{0}, refreshes_{0};

  // Guards nodes_ and map_.
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<RedisNode>> nodes_;
  std::shared_ptr<const SlotMap> map_;

  // Serializes full refreshes; guards last_refresh_ and last_refresh_error_.
  std::mutex refresh_mu_;
  SteadyTime last_refresh_{};
  Status last_refresh_error_;

  // Guards the background thread's inputs below.
  mutable std::mutex bg_mu_;
  mutable std::condition_variable bg_cv_;
  std::deque<NodeEvent> events_;
  mutable bool refresh_wanted_ = false;
  bool stopping_ = false;
  std::thread bg_;  // last: started after everything above exists
};

}  // namespace plancache::internal

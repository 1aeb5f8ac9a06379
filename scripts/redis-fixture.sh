#!/usr/bin/env bash
# The shared Redis test fixture: one standalone redis-server and one
# 3-master Redis Cluster on free loopback ports, daemonized, pidfiles in DIR.
#
#   scripts/redis-fixture.sh start DIR   # writes DIR/env (PLANCACHE_TEST_REDIS_URL=...,
#                                        #   PLANCACHE_TEST_REDIS_CLUSTER_URL=...)
#   scripts/redis-fixture.sh stop DIR    # kills what start began, removes DIR
#
# Both are idempotent: start first stops whatever a previous (crashed) run
# left in DIR. Ports are below 55536; cluster nodes below 45536 (their bus
# port is port + 10000).
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
cmd=$1
[[ -n $2 ]] || usage
dir=$(realpath -m -- "$2")  # absolute: redis-server chdirs to --dir
[[ $dir != / ]] || usage

log() { echo "redis-fixture: $*" >&2; }

# True when something accepts connections on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A random port in [20000, $1] that is free (and $1 + 10000 too when $2 = bus).
pick_port() {
  local max=$1 bus=${2:-} p
  for _ in $(seq 200); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % (max - 20000) ))
    port_in_use "$p" && continue
    [[ -n $bus ]] && port_in_use $((p + 10000)) && continue
    echo "$p"
    return 0
  done
  return 1
}

# A live (not zombie) redis process; pids can be reused after a crash.
is_redis_pid() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [[ $stat == *"(redis"* ]] || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

stop_pid() {
  local pid=$1
  is_redis_pid "$pid" || return 0
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    is_redis_pid "$pid" || return 0
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
}

stop_all() {
  [[ -d $dir ]] || return 0
  local f pids=() pid
  for f in "$dir"/*.pid; do
    [[ -f $f ]] || continue
    pid=$(cat "$f" 2>/dev/null || echo 0)
    is_redis_pid "$pid" || continue
    pids+=("$pid")
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  rm -rf "$dir"
}

# start_server NAME PORT [redis-server args...]: true once it answers as our pid.
start_server() {
  local name=$1 port=$2
  shift 2
  mkdir -p "$dir/$name"
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
    --pidfile "$dir/$name.pid" --logfile "$dir/$name/redis.log" --dir "$dir/$name" \
    --save '' --appendonly no "$@" >/dev/null || return 1
  local want pid
  for _ in $(seq 100); do
    pid=$(cat "$dir/$name.pid" 2>/dev/null || true)
    if [[ -n $pid ]]; then
      want=$(redis-cli -p "$port" INFO server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')
      [[ $want == "$pid" ]] && return 0
      is_redis_pid "$pid" || break
    fi
    sleep 0.05
  done
  [[ -n ${pid:-} ]] && stop_pid "$pid"
  rm -f "$dir/$name.pid"
  return 1
}

# start_on_free_port NAME MAX [bus] [args...]: prints the port it got.
start_on_free_port() {
  local name=$1 max=$2 bus=$3 port
  shift 3
  for _ in $(seq 20); do
    port=$(pick_port "$max" "$bus") || continue
    if start_server "$name" "$port" "$@"; then
      echo "$port"
      return 0
    fi
  done
  log "cannot start $name"
  return 1
}

cluster_ok() {
  local p
  for p in "$@"; do
    redis-cli -p "$p" CLUSTER INFO 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
}

start() {
  stop_all
  mkdir -p "$dir"
  local standalone ports=() p i
  # (`start` runs under `if`, where set -e is off: every step checks itself.)
  standalone=$(start_on_free_port standalone 55535 "") || return 1
  for i in 1 2 3; do
    p=$(start_on_free_port "cluster-$i" 45535 bus --cluster-enabled yes \
      --cluster-config-file "$dir/nodes-cluster-$i.conf" --cluster-node-timeout 5000) || return 1
    ports+=("$p")
  done
  redis-cli --cluster create "127.0.0.1:${ports[0]}" "127.0.0.1:${ports[1]}" \
    "127.0.0.1:${ports[2]}" --cluster-replicas 0 --cluster-yes >"$dir/cluster-create.log" 2>&1 || {
    log "redis-cli --cluster create failed:"
    cat "$dir/cluster-create.log" >&2
    return 1
  }
  for _ in $(seq 600); do
    cluster_ok "${ports[@]}" && break
    sleep 0.05
  done
  cluster_ok "${ports[@]}" || { log "cluster_state never became ok"; return 1; }
  {
    echo "PLANCACHE_TEST_REDIS_URL=redis://127.0.0.1:$standalone"
    echo "PLANCACHE_TEST_REDIS_CLUSTER_URL=redis://127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
  } >"$dir/env.tmp"
  mv "$dir/env.tmp" "$dir/env"
  cat "$dir/env"
}

case $cmd in
  start)
    if ! start; then
      stop_all
      exit 1
    fi
    ;;
  stop) stop_all ;;
  *) usage ;;
esac

#!/usr/bin/env bash
# Where a hot GET's CPU goes: the origin (`npm start`, memory store, production settings) and the
# bare node:http floor (scripts/bench-baseline-server.ts), each under `wrk -t1 -c50` for 5 s while
# Linux perf samples the server's CPU (cpu-clock, 4 kHz, call stacks; JavaScript frames named
# through --perf-basic-prof), then split.awk splits the samples into parts, in microseconds per
# GET. perf's timer sampling charges JavaScript, V8 and the kernel alike; V8's own profilers
# (--cpu-prof, --prof) put most samples of this VM on system call returns.
# Needs: perf (apt-get install linux-perf), wrk, curl; perf_event_paranoid <= 2 (or root).
# Usage: bash scripts/profile/hot-get.sh [object bytes, default 1024]
set -euo pipefail
cd "$(dirname "$0")/../.."
size=${1:-1024}
out=$(mktemp -d)
token=profile-token-0123456789
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$out" /tmp/perf-*.map 2>/dev/null || true
}
trap cleanup EXIT
for tool in perf wrk curl; do command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 2; }; done

# The listening process (tsx runs the server in a child of its own).
listener() { ss -ltnp "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true; }
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
wait_port() { for _ in $(seq 1 150); do [ -n "$(listener "$1")" ] && return 0; sleep 0.2; done; echo "nothing listens on port $1" >&2; exit 1; }

profile() { # name port path
  local name=$1 port=$2 path=$3 pid requests
  pid=$(listener "$port")
  wrk -t1 -c50 -d2s "http://127.0.0.1:$port$path" >/dev/null
  perf record -g -e cpu-clock -F 4000 -p "$pid" -o "$out/$name.data" -- sleep 5.5 >/dev/null 2>&1 &
  local recorder=$!
  sleep 0.25
  requests=$(wrk -t1 -c50 -d5s "http://127.0.0.1:$port$path" | awk '/requests in/ {print $1}')
  wait "$recorder"
  perf script -i "$out/$name.data" 2>/dev/null >"$out/$name.txt"
  echo "== $name: $requests GETs of $size bytes in 5 s"
  awk -v REQUESTS="$requests" -v HZ=4000 -f scripts/profile/split.awk "$out/$name.txt" | sort -rn
}

bare_port=$(free_port)
PORT=$bare_port BASELINE_SIZES=$size node --perf-basic-prof --import tsx scripts/bench-baseline-server.ts >/dev/null &
pids+=($!)
origin_port=$(free_port)
PORT=$origin_port NODE_ENV=production LOG_LEVEL=info LIVE_ORIGIN_TOKENS="$token=*" node --perf-basic-prof --import tsx runtime/server.ts >"$out/origin.log" &
pids+=($!)
wait_port "$bare_port"
wait_port "$origin_port"
head -c "$size" /dev/urandom >"$out/body"
curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $token" --data-binary @"$out/body" "http://127.0.0.1:$origin_port/ingest/bench/a/v/seg_1.m4s"

profile "bare node:http" "$bare_port" "/live/bench/v/$size.m4s"
profile "origin, memory" "$origin_port" "/live/bench/v/seg_1.m4s"

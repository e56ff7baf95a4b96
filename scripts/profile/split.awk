# Splits `perf script` samples of an HTTP server under GET load by what the server was doing.
# Each sample (a blank-line separated stack, leaf first) goes to the first rule it matches.
# Usage: awk -v REQUESTS=<answers during the capture> -v HZ=<sampling rate> -f split.awk perf.txt
# Prints microseconds of CPU per request for each part (samples x 1/HZ / REQUESTS).
BEGIN { RS = ""; FS = "\n" }
{
  total++
  s = $0
  part = "other (libc, V8 runtime outside the parts above)"
  if (s ~ /prom-client|runtime\/metrics\//) part = "origin: metrics"
  else if (s ~ /runtime\/service\/|runtime\/adapters\/|runtime\/domain\//) part = "origin: deliver (service, domain, store)"
  else if (s ~ /JS:\*?end node:_http_outgoing|clearBuffer/ && s ~ /kernel/) part = "Node: response write, kernel (writev)"
  else if (s ~ /JS:\*?end node:_http_outgoing|clearBuffer|_storeHeader|processHeader|_send node|write_ node/) part = "Node: response write (headers, stream)"
  else if (s ~ /runtime\/http\/|bench-baseline-server/) part = "origin: handler (dispatch, parse, headers, CORS)"
  else if (s ~ /processTicksAndRejections|RunMicrotasks/ && s !~ /_http_|readable/) part = "Node: promise jobs and ticks"
  else if (s ~ /onStreamRead|uv__read|llhttp|parserOn|_http_server|_http_incoming|_http_common|readable|task_queues/) part = "Node: request read, parse, ticks, socket timers"
  else if (s ~ /Scavenge|MarkCompact|Heap::|GCTracer|Sweeper|Concurrent/) part = "garbage collection"
  else if (s ~ /epoll|uv__io_poll/) part = "event loop (epoll)"
  count[part]++
}
END {
  for (p in count) printf "%7.2f us  %5.1f%%  %s\n", count[p] / HZ * 1e6 / REQUESTS, 100 * count[p] / total, p
  printf "%7.2f us  100.0%%  total\n", total / HZ * 1e6 / REQUESTS
}

vcl 4.1;

# A Varnish edge for Live Origin in front of one region. The edge logic (ms TTLs, coalescing,
# PURGE, CORS pass-through) is in live-origin.vcl, next to this file; for two regions with
# per-request failover use varnish-two-regions.vcl instead.
#
# The backend address is filled in by whoever starts Varnish (see test/support/varnish.ts).

backend origin {
  .host = "${ORIGIN_HOST}";
  .port = "${ORIGIN_PORT}";
  # Held requests stay open up to about two segment durations (the origin sends the headers
  # of a streamed answer when the PUT starts, before its first byte).
  .first_byte_timeout = 15s;
  # Within a streamed answer: the packager's pause between two chunks (a CMAF fragment), or
  # the wait for the PUT's ack before the last chunk. The origin's own bound on a PUT that
  # stops sending is 10 s too: whichever gives up first, the stream is cut and not cached.
  .between_bytes_timeout = 10s;
}

include "./live-origin.vcl";

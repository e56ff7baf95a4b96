vcl 4.1;

# A Varnish edge for Live Origin in front of two regions: the CDN tier's fast path of regional
# failover (docs/contract.md, "Failover on AWS"; Route 53 is the backstop). A fallback director sends
# every miss to region 1 while its /readyz answers 200, else to region 2; a fetch that fails
# outright (connection refused or reset, timeout) is retried once on the other region, so
# viewers see no error in the second or so before the probes notice.
#
# Region 1's /readyz turns 503 when it drains or loses its store, which moves traffic after
# .window failed probes in a row; it comes back after .threshold good probes out of .window.
#
# Backend addresses are filled in by whoever starts Varnish (see test/support/varnish.ts). The
# edge logic is shared with the one-region setup: live-origin.vcl, next to this file.

import directors;

probe readyz {
  .url = "/readyz";
  .expected_response = 200;
  # Sick when the last three probes all failed (1 to 1.5 s after a region goes dark); healthy
  # again after one good probe. A region whose readiness flickers (a slow store ping on a busy
  # host) stays in: the retry below covers a fetch that fails in the meantime.
  .interval = 500ms;
  # Generous: a busy origin answers /readyz late, and late is not down.
  .timeout = 1s;
  .window = 3;
  .threshold = 1;
  # Start healthy: traffic flows at once, and a dead region is caught by the retry below.
  .initial = 1;
}

backend region1 {
  .host = "${REGION1_HOST}";
  .port = "${REGION1_PORT}";
  .probe = readyz;
  .connect_timeout = 1s;
  # Held requests stay open up to about two segment durations (the origin sends the headers
  # of a streamed answer when the PUT starts, before its first byte).
  .first_byte_timeout = 15s;
  # Within a streamed answer: the packager's pause between two chunks (a CMAF fragment), or
  # the wait for the PUT's ack before the last chunk. The origin's own bound on a PUT that
  # stops sending is 10 s too: whichever gives up first, the stream is cut and not cached.
  .between_bytes_timeout = 10s;
}

backend region2 {
  .host = "${REGION2_HOST}";
  .port = "${REGION2_PORT}";
  .probe = readyz;
  .connect_timeout = 1s;
  .first_byte_timeout = 15s;
  .between_bytes_timeout = 10s;
}

sub vcl_init {
  new regions = directors.fallback();
  regions.add_backend(region1);
  regions.add_backend(region2);
  # For the one retry: the other region first.
  new retry_regions = directors.fallback();
  retry_regions.add_backend(region2);
  retry_regions.add_backend(region1);
}

sub vcl_backend_fetch {
  if (bereq.retries == 0) {
    set bereq.backend = regions.backend();
  } else {
    set bereq.backend = retry_regions.backend();
  }
}

sub vcl_backend_error {
  if (bereq.retries == 0) {
    return (retry);
  }
}

# Runs before the shared vcl_backend_response (subroutines concatenate in source order).
sub vcl_backend_response {
  # Which region answered, for operators (and the failover measurements in the tests).
  set beresp.http.X-Edge-Backend = beresp.backend.name;
  if (bereq.retries > 0) {
    set beresp.http.X-Edge-Retries = bereq.retries;
  }
}

include "./live-origin.vcl";

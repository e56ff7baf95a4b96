vcl 4.1;

# The edge logic of a Live Origin CDN tier, shared by both setups:
#   varnish.vcl              one region (one backend)
#   varnish-two-regions.vcl  two regions behind a fallback director with /readyz probes
# It caches for exactly the origin's millisecond lifetimes (Live-TTL-Ms), coalesces concurrent
# misses into one origin request (so one held request per segment reaches the origin), and
# honours the origin's PURGE fan-out. Backends are chosen by the including file.
#
# Segments the origin streams while their PUT arrives (docs/contract.md, serving while
# ingesting) are streamed on: every viewer waiting for the object, and every viewer who asks
# while it arrives, gets each chunk as Varnish receives it, all from the one origin fetch. If
# that fetch ends early (the origin cuts it when the PUT fails: no last chunk, or fewer bytes
# than Content-Length), Varnish cuts its viewers too and keeps nothing; the next request is a
# new fetch, which the origin answers from the next candidate. See docs/cdn/varnish.md.
#
# CORS is the origin's (docs/contract.md, contract v2): its Access-Control-* headers are cached and
# delivered untouched, a `Vary: Origin` (sent when only listed pages may play) keeps one copy
# per page, and OPTIONS preflights pass to the origin, which answers them. Answers Varnish makes
# itself (a 503 when no region answers, synth) carry the origin's default CORS (`*` and the same
# Expose-Headers, runtime/domain/cors.ts) so a player on another page can read the error, not a
# network failure; they hold no content, so `*` grants nothing a listed-page policy keeps back.

import std;

acl purgers {
  "127.0.0.1";
  "::1";
}

sub vcl_recv {
  if (req.method == "PURGE") {
    if (client.ip !~ purgers) {
      return (synth(405, "PURGE not allowed"));
    }
    # `/live/{event}/*` flushes a whole event; anything else is one object.
    if (req.url ~ "\*$") {
      ban("obj.http.x-url ~ ^" + regsub(req.url, "\*$", ""));
      return (synth(200, "Banned"));
    }
    return (purge);
  }
  # OPTIONS (CORS preflight) and anything else that is not a read goes to the origin uncached.
  if (req.method != "GET" && req.method != "HEAD") {
    return (pass);
  }
  # The origin's clock (a DASH UTCTiming source): never cached, never coalesced.
  if (req.url ~ "^/time(\?|$)") {
    return (pass);
  }
  # Delivery needs no cookies or auth from viewers; the origin's answer is the same for all.
  unset req.http.Cookie;
  unset req.http.Authorization;
  call live_origin_query;
  return (hash);
}

# Query strings (contract v2): only LL-HLS blocking-reload directives change the answer, so
# the cache key keeps `_HLS_msn` and `_HLS_part` (in that order, whatever order the player
# used) and drops every other parameter: one cached copy per segment/part a player waits for.
sub live_origin_query {
  if (req.url ~ "\?") {
    set req.http.x-hls = "";
    if (req.url ~ "[?&]_HLS_msn=") {
      set req.http.x-hls = "&_HLS_msn=" + regsub(req.url, "^.*[?&]_HLS_msn=([^&]*).*$", "\1");
    }
    if (req.url ~ "[?&]_HLS_part=") {
      set req.http.x-hls = req.http.x-hls + "&_HLS_part=" + regsub(req.url, "^.*[?&]_HLS_part=([^&]*).*$", "\1");
    }
    set req.url = regsub(req.url, "\?.*$", "");
    if (req.http.x-hls != "") {
      set req.url = req.url + "?" + regsub(req.http.x-hls, "^&", "");
    }
    unset req.http.x-hls;
  }
}

sub vcl_backend_response {
  # Remembered for bans (ban expressions on obj.* only).
  set beresp.http.x-url = bereq.url;
  if (beresp.http.Live-TTL-Ms) {
    set beresp.ttl = std.duration(beresp.http.Live-TTL-Ms + "ms", 0s);
  } else if (beresp.status == 404 && beresp.http.CMSD-Static ~ "(^|,)\s*at=\d{4,}") {
    # CMSD `at` (CTA-5006) on a 404: when the object becomes available. Without Live-TTL-Ms
    # (an origin that only speaks CMSD), cache the 404 until then, not a fixed negative TTL.
    set beresp.ttl = std.time(regsub(beresp.http.CMSD-Static, "^(.*[,\s])?at=(\d+)(\d{3}).*$", "\2.\3"), now) - now;
  }
  # CMSD `nor` names the object players ask for next: logged (varnishlog -i VCL_Log) for a
  # prefetcher to act on; the origin holds such a request until the object is published.
  if (beresp.http.CMSD-Static ~ "nor=") {
    std.log("cmsd-nor: " + regsub(bereq.url, "[^/]*$", "") + regsub(beresp.http.CMSD-Static, {"^.*nor="([^"]*)".*$"}, "\1"));
  }
  if (beresp.http.CMSD-Dynamic) {
    std.log("cmsd-dynamic: " + beresp.http.CMSD-Dynamic);
  }
  # A live edge must not serve stale segments or playlists past their lifetime.
  set beresp.grace = 0s;
  set beresp.keep = 0s;
  # Stream the body to viewers as it arrives (Varnish's default, stated because sub-second live
  # latency rests on it): an answer the origin streams while ingesting reaches every viewer
  # chunk by chunk, not when its last byte is in. A fetch that fails mid-body is not cached.
  set beresp.do_stream = true;
  return (deliver);
}

sub vcl_deliver {
  unset resp.http.x-url;
  # CMSD-Dynamic describes the origin at the moment of the fill (duress): passed on with the
  # answer that fetched it, never replayed from cache.
  if (obj.hits > 0) {
    unset resp.http.CMSD-Dynamic;
    set resp.http.X-Cache = "HIT";
  } else {
    set resp.http.X-Cache = "MISS";
  }
}

sub vcl_backend_error {
  set beresp.http.Access-Control-Allow-Origin = "*";
  set beresp.http.Access-Control-Expose-Headers = "Live-Pipeline, Live-Defect, Live-Quality, Live-TTL-Ms, CMSD-Static, CMSD-Dynamic, ETag, Content-Range, Age, Retry-After";
}

sub vcl_synth {
  set resp.http.Access-Control-Allow-Origin = "*";
  set resp.http.Access-Control-Expose-Headers = "Live-Pipeline, Live-Defect, Live-Quality, Live-TTL-Ms, CMSD-Static, CMSD-Dynamic, ETag, Content-Range, Age, Retry-After";
}

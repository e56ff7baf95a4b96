vcl 4.1;

# The edge logic of a Live Origin CDN tier, shared by both setups:
#   varnish.vcl              one region (one backend)
#   varnish-two-regions.vcl  two regions behind a fallback director with /readyz probes
# It caches for exactly the origin's millisecond lifetimes (Live-TTL-Ms), coalesces concurrent
# misses into one origin request (so one held request per segment reaches the origin), and
# honours the origin's PURGE fan-out. Backends are chosen by the including file.
#
# CORS is the origin's (DESIGN.md, contract v2): its Access-Control-* headers are cached and
# delivered untouched, a `Vary: Origin` (sent when only listed pages may play) keeps one copy
# per page, and OPTIONS preflights pass to the origin, which answers them.

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
  # Delivery needs no cookies or auth from viewers; the origin's answer is the same for all.
  unset req.http.Cookie;
  unset req.http.Authorization;
  return (hash);
}

sub vcl_backend_response {
  # Remembered for bans (ban expressions on obj.* only).
  set beresp.http.x-url = bereq.url;
  if (beresp.http.Live-TTL-Ms) {
    set beresp.ttl = std.duration(beresp.http.Live-TTL-Ms + "ms", 0s);
  }
  # A live edge must not serve stale segments or playlists past their lifetime.
  set beresp.grace = 0s;
  set beresp.keep = 0s;
  return (deliver);
}

sub vcl_deliver {
  unset resp.http.x-url;
  if (obj.hits > 0) {
    set resp.http.X-Cache = "HIT";
  } else {
    set resp.http.X-Cache = "MISS";
  }
}

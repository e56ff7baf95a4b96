vcl 4.1;

# A Varnish edge for Live Origin: caches for exactly the origin's millisecond lifetimes
# (Live-TTL-Ms), coalesces concurrent misses into one origin request (so one held request per
# segment reaches the origin), and honours the origin's PURGE fan-out.
#
# The backend address is filled in by whoever starts Varnish (see test/edge/varnish.test.ts).

import std;

backend origin {
  .host = "${ORIGIN_HOST}";
  .port = "${ORIGIN_PORT}";
  # Held requests stay open up to about two segment durations.
  .first_byte_timeout = 15s;
  .between_bytes_timeout = 10s;
}

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

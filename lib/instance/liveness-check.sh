#!/bin/bash
# Liveness: asks the runtime's /healthz (the process answers; it says nothing about the stores)
# and, after LIVE_ORIGIN_LIVENESS_FAILURES failures in a row, tells the Auto Scaling group to
# replace this instance. Readiness (/readyz, store reachable) only takes an instance out of the
# load balancer's rotation: a slow or absent shared store must never replace the fleet. A crash
# is systemd's (Restart=always); this catches a process that hangs or cannot start. Run by
# live-origin-liveness.timer. Baked into the image.
#
# Environment (the instance environment file): AWS_REGION, LIVE_ORIGIN_HEALTH_URL,
# LIVE_ORIGIN_LIVENESS_STATE (where the count of failures is kept), LIVE_ORIGIN_LIVENESS_FAILURES,
# LIVE_ORIGIN_METADATA_URL (the instance metadata service).
set -uo pipefail

state=$LIVE_ORIGIN_LIVENESS_STATE
if curl -fsS -o /dev/null -m 5 "$LIVE_ORIGIN_HEALTH_URL"; then
  echo 0 > "$state"
  exit 0
fi
failures=$(( $(cat "$state" 2>/dev/null || echo 0) + 1 ))
echo "$failures" > "$state"
echo "live-origin: liveness check failed ($failures in a row, replaced at $LIVE_ORIGIN_LIVENESS_FAILURES)" >&2
[ "$failures" -ge "$LIVE_ORIGIN_LIVENESS_FAILURES" ] || exit 0

token=$(curl -fsS -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$LIVE_ORIGIN_METADATA_URL/api/token")
instance_id=$(curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $token" "$LIVE_ORIGIN_METADATA_URL/meta-data/instance-id")
# The group's health check grace period is respected: a booting instance is not cut short.
aws autoscaling set-instance-health --region "$AWS_REGION" --instance-id "$instance_id" --health-status Unhealthy

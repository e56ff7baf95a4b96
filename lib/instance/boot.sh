# User data of an origin instance, after the variables that lib/instance/boot-script.ts puts
# above it (region, stack, secret, buckets, target groups, paths). It writes the runtime's
# environment and credentials, starts the CloudWatch agent, the runtime and its timers, and
# signals CloudFormation success only once the instance answers /readyz AND every target group
# of the load balancer counts it healthy (a rolling update then never moves on to the next
# instance before this one takes traffic), or failure as soon as a step fails.
set -euo pipefail

signal() {
  "$(command -v cfn-signal || echo /opt/aws/bin/cfn-signal)" \
    --region "$REGION" --stack "$STACK_NAME" --resource "$SIGNAL_RESOURCE" --exit-code "$1" || true
}
trap 'signal 1' ERR

fetch_secret() {
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    aws secretsmanager get-secret-value --region "$REGION" --secret-id "$SECRET_NAME" --query SecretString --output text && return 0
    sleep $((attempt * 3))
  done
  return 1
}

# Read by the credentials timer and the liveness timer (their units' EnvironmentFile).
umask 022
install -d -m 0755 "$(dirname "$ENV_FILE")" "$(dirname "$LIVENESS_STATE")"
cat > "$INSTANCE_ENV_FILE" <<INSTANCE
AWS_REGION=$REGION
LIVE_ORIGIN_SECRET_NAME=$SECRET_NAME
LIVE_ORIGIN_CREDENTIALS_FILE=$CREDENTIALS_FILE
LIVE_ORIGIN_SERVICE_GROUP=$SERVICE_GROUP
LIVE_ORIGIN_HEALTH_URL=http://127.0.0.1:$PORT$LIVENESS_PATH
LIVE_ORIGIN_LIVENESS_STATE=$LIVENESS_STATE
LIVE_ORIGIN_LIVENESS_FAILURES=$LIVENESS_FAILURES
LIVE_ORIGIN_METADATA_URL=$METADATA_URL
INSTANCE

# Tokens and CDN secrets: a file the runtime re-reads, so rotation needs no new instance.
secret_json=$(fetch_secret)
set -a
. "$INSTANCE_ENV_FILE"
set +a
"$BIN_DIR/refresh-credentials.sh"

# The instance's private address: other instances read PUTs arriving here from its relay.
token=$(curl -fsS -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$METADATA_URL/api/token")
private_ip=$(curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $token" "$METADATA_URL/meta-data/local-ipv4")

umask 077
memory_bytes=$(awk '/^MemTotal:/ { printf "%d", $2 * 1024 * '"$MEMORY_FRACTION"' }' /proc/meminfo)
new_env="$ENV_FILE.new"
cat > "$new_env" <<ENV
PORT=$PORT
HOST=0.0.0.0
LIVE_ORIGIN_STORE=aws
LIVE_ORIGIN_BUCKET=$BUCKET
LIVE_ORIGIN_TABLE_PREFIX=$TABLE_PREFIX
LIVE_ORIGIN_PEER_BUCKETS=$PEER_BUCKETS
AWS_REGION=$REGION
LIVE_ORIGIN_MEMORY_BYTES=$memory_bytes
LIVE_ORIGIN_WORKERS=$(nproc)
LIVE_ORIGIN_RELAY_HOST=$private_ip
LIVE_ORIGIN_RELAY_PORT=$RELAY_PORT
LIVE_ORIGIN_CREDENTIALS_FILE=$CREDENTIALS_FILE
ENV
# One worker process per vCPU: the primary forks them on one port and splits the memory cap.
printf '%s' "$secret_json" | node "$BIN_DIR/credentials.mjs" env >> "$new_env"
mv "$new_env" "$ENV_FILE"

# Logs leave the instance before the runtime starts; an agent that fails to start costs the
# logs, not the region's capacity, so it is reported and boot goes on.
printf '%s\n' "$AGENT_CONFIG_JSON" > "$AGENT_CONFIG"
"$AGENT_CTL" -a fetch-config -m ec2 -s -c "file:$AGENT_CONFIG" || echo 'live-origin: the CloudWatch agent did not start' >&2

systemctl enable --now "$SERVICE_NAME" $TIMERS

# wait_until ATTEMPTS MESSAGE COMMAND...: polls COMMAND every POLL_SECONDS; after ATTEMPTS
# failures, reports MESSAGE and signals failure.
wait_until() {
  local attempts=$1 message=$2 attempt=0
  shift 2
  until "$@"; do
    attempt=$((attempt + 1))
    if [ "$attempt" -ge "$attempts" ]; then
      echo "live-origin: $message" >&2
      signal 1
      exit 1
    fi
    sleep "$POLL_SECONDS"
  done
}

ready() {
  curl -fsS -o /dev/null -m 5 "http://127.0.0.1:$PORT$READINESS_PATH"
}
wait_until "$READY_ATTEMPTS" "not ready after $READY_ATTEMPTS attempts" ready

token=$(curl -fsS -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$METADATA_URL/api/token")
instance_id=$(curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $token" "$METADATA_URL/meta-data/instance-id")
healthy_in() {
  [ "$(aws elbv2 describe-target-health --region "$REGION" --target-group-arn "$1" --targets "Id=$instance_id" \
    --query 'TargetHealthDescriptions[0].TargetHealth.State' --output text || true)" = healthy ]
}
for group in $TARGET_GROUPS; do
  wait_until "$TARGET_ATTEMPTS" "the load balancer never counted this instance healthy in $group" healthy_in "$group"
done
signal 0

#!/bin/bash
# Fetches the runtime secret and replaces the credentials file the runtime re-reads, atomically
# and only with a valid secret (credentials.mjs refuses one without tokens: the last good file
# stays). Run at boot and by live-origin-credentials.timer. Baked into the image.
#
# Environment (the instance environment file): AWS_REGION, LIVE_ORIGIN_SECRET_NAME,
# LIVE_ORIGIN_CREDENTIALS_FILE, LIVE_ORIGIN_SERVICE_GROUP (may read the file).
set -euo pipefail

secret_json=$(aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$LIVE_ORIGIN_SECRET_NAME" \
  --query SecretString --output text)
tmp=$(mktemp "$LIVE_ORIGIN_CREDENTIALS_FILE.XXXXXX")
trap 'rm -f "$tmp"' EXIT
printf '%s' "$secret_json" | node "$(dirname "$0")/credentials.mjs" file > "$tmp"
chgrp "$LIVE_ORIGIN_SERVICE_GROUP" "$tmp"
chmod 0640 "$tmp"
mv -f "$tmp" "$LIVE_ORIGIN_CREDENTIALS_FILE"

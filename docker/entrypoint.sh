#!/bin/sh
# Secrets from files (the Docker/Kubernetes secrets convention): for ES_PASSWORD and ES_API_KEY, and for any
# other variable named in LOGSHIP_FILE_VARS (space-separated), NAME_FILE=/path exports NAME with the file's
# content. Other *_FILE variables (SSL_CERT_FILE, AWS_SHARED_CREDENTIALS_FILE, …) are paths and are left alone.
# Then this shell is replaced by logship, which so receives SIGTERM directly.
set -eu
for var in ES_PASSWORD ES_API_KEY ${LOGSHIP_FILE_VARS:-}; do
  file=$(printenv "${var}_FILE" || true)
  [ -n "$file" ] || continue
  if [ -n "$(printenv "$var" || true)" ]; then
    echo "logship: both $var and ${var}_FILE are set; use one" >&2
    exit 1
  fi
  if [ ! -r "$file" ]; then
    echo "logship: ${var}_FILE: cannot read $file" >&2
    exit 1
  fi
  value=$(cat "$file")
  export "$var=$value"
done
exec node /app/dist/cli.js "$@"

#!/bin/sh
# One-shot (the kibana image runs it once Kibana is healthy): import the logs-django-* data view and the saved
# searches from logship.ndjson, and make the data view Kibana's default, so Discover shows the logs right away.
set -eu
KIBANA_URL=${KIBANA_URL:-http://kibana:5601}
auth="elastic:$(cat /secrets/elastic)"
until curl -fsS -u "$auth" "$KIBANA_URL/api/status" >/dev/null 2>&1; do sleep 5; done
result=$(curl -fsS -u "$auth" -H 'kbn-xsrf: logship' \
  -F file=@/setup/logship.ndjson "$KIBANA_URL/api/saved_objects/_import?overwrite=true")
case "$result" in
  *'"success":true'*) echo "kibana: saved objects imported" ;;
  *) echo "kibana: import failed: $result" >&2; exit 1 ;;
esac
curl -fsS -u "$auth" -H 'kbn-xsrf: logship' -H 'Content-Type: application/json' -X POST \
  "$KIBANA_URL/api/data_views/default" -d '{"data_view_id":"logship-logs-django","force":true}' >/dev/null
echo "kibana: logs-django-* is the default data view; open Discover → \"Django logs (logship)\""

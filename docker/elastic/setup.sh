#!/bin/bash
# One-shot setup of the compose stack's Elasticsearch security (the elasticsearch image runs it, as root).
#   generate   before Elasticsearch starts: random passwords for elastic, kibana_system and logship, kept in the
#              `secrets` volume (never in the image, the compose file or the environment of `docker inspect`).
#   configure  once Elasticsearch answers: set kibana_system's password, create the logship_writer role and the
#              logship user (it may only write logs-django-* and read the cluster version).
# Both are idempotent: re-running keeps the existing passwords.
set -euo pipefail
SECRETS=${SECRETS_DIR:-/secrets}
ES_URL=${ES_URL:-http://elasticsearch:9200}

new_password() {
  local p
  p=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  printf '%s' "${p:0:32}"
}

case "${1:-}" in
  generate)
    umask 077
    for name in elastic kibana_system logship; do
      if [ ! -s "$SECRETS/$name" ]; then
        new_password > "$SECRETS/$name"
        echo "setup: generated the $name password ($SECRETS/$name)"
      fi
    done
    # uid 1000 is the elasticsearch, kibana and node (logship) user of the official images.
    chown 1000:0 "$SECRETS" "$SECRETS"/*
    chmod 0750 "$SECRETS"
    chmod 0440 "$SECRETS"/*
    # logship gets a volume holding its own password and nothing else (LOGSHIP_SECRET_DIR, mounted by compose).
    if [ -n "${LOGSHIP_SECRET_DIR:-}" ]; then
      cp "$SECRETS/logship" "$LOGSHIP_SECRET_DIR/logship"
      chown 1000:0 "$LOGSHIP_SECRET_DIR" "$LOGSHIP_SECRET_DIR/logship"
      chmod 0750 "$LOGSHIP_SECRET_DIR"
      chmod 0440 "$LOGSHIP_SECRET_DIR/logship"
    fi
    ;;
  configure)
    auth="elastic:$(cat "$SECRETS/elastic")"
    echo "setup: waiting for $ES_URL"
    until curl -fsS -u "$auth" "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=30s" >/dev/null; do sleep 5; done
    json=(-H 'Content-Type: application/json')
    curl -fsS -u "$auth" "${json[@]}" -X POST "$ES_URL/_security/user/kibana_system/_password" \
      -d "{\"password\":\"$(cat "$SECRETS/kibana_system")\"}" >/dev/null
    # monitor: GET / (the version check at start). manage_index_templates is needed only for an index other than
    # logs-*-* (logship then installs its own template): add it if you change sink.index.
    curl -fsS -u "$auth" "${json[@]}" -X PUT "$ES_URL/_security/role/logship_writer" -d '{
      "cluster": ["monitor"],
      "indices": [{ "names": ["logs-django-*"], "privileges": ["create_doc", "auto_configure"] }]
    }' >/dev/null
    curl -fsS -u "$auth" "${json[@]}" -X PUT "$ES_URL/_security/user/logship" \
      -d "{\"password\":\"$(cat "$SECRETS/logship")\",\"roles\":[\"logship_writer\"],\"full_name\":\"logship shipper\"}" >/dev/null
    echo "setup: kibana_system password set; role logship_writer and user logship ready"
    ;;
  *)
    echo "usage: setup.sh generate|configure" >&2
    exit 2
    ;;
esac

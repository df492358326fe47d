#!/usr/bin/env bash
# Validates docker/ without a Docker daemon:
#   1. docker-compose.yml parses and resolves (Debian's docker-compose: `config`), with and without the monitoring profile
#   2. the Dockerfile lints (dockerfile-utils from npm, run with npm exec: nothing is added to package.json), and
#      keeps its promises: non-root USER, HEALTHCHECK, STOPSIGNAL, multi-stage, production dependencies only
#   3. every example config passes `logship check` (docker/logship.*.yml, the k8s ConfigMap's, examples/logship.yml)
#   4. the Prometheus configs (compose's, and the Kubernetes scrape job) and alert rules parse, the alert rules' unit
#      tests pass (Debian's prometheus: promtool), and the job the alerts select is the job every scrape config makes
#   5. every PromQL expression of the Grafana dashboard parses (promtool, as recording rules)
#   6. the Kibana saved objects are NDJSON whose references resolve; the shell scripts parse
# Installs what it needs from Debian (docker-compose, prometheus) when missing. Needs dist/ (npm run build).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

missing=()
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v promtool >/dev/null || missing+=(prometheus)
if ((${#missing[@]} > 0)); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -f dist/cli.js ] || npm run build >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
checks=0
step() {
  checks=$((checks + 1))
  echo "check-docker: $*"
}

step "docker-compose config"
docker-compose -f docker/docker-compose.yml config -q
docker-compose -f docker/docker-compose.yml --profile monitoring config -q
services=$(docker-compose -f docker/docker-compose.yml --profile monitoring config --services | sort | tr '\n' ' ')
for s in elasticsearch kibana logship prometheus; do
  [[ " $services " == *" $s "* ]] || { echo "check-docker: service $s missing from docker-compose.yml" >&2; exit 1; }
done

step "Dockerfile lint (dockerfile-utils) and policy"
(cd "$tmp" && npm exec --yes --package=dockerfile-utils@0.16.3 -- dockerfile-utils lint "$OLDPWD/docker/Dockerfile")
dockerfile_has() {
  grep -Eq "$1" docker/Dockerfile || { echo "check-docker: docker/Dockerfile: $2" >&2; exit 1; }
}
dockerfile_has '^USER (node|[1-9][0-9]*)' 'must switch to a non-root USER'
dockerfile_has '^HEALTHCHECK ' 'must have a HEALTHCHECK'
dockerfile_has '^STOPSIGNAL SIGTERM' 'must set STOPSIGNAL SIGTERM'
dockerfile_has 'npm ci --omit=dev' 'the runtime must install production dependencies only'
dockerfile_has 'node:(22|24)-[a-z]+-slim' 'must use a maintained Node LTS (22 or 24) slim base'
[ "$(grep -c '^FROM ' docker/Dockerfile)" -ge 2 ] || { echo "check-docker: docker/Dockerfile must be multi-stage" >&2; exit 1; }
if grep -Eiq '^(ENV|ARG) .*(PASSWORD|SECRET|API_KEY|TOKEN)=' docker/Dockerfile; then
  echo "check-docker: docker/Dockerfile must not bake in secrets" >&2
  exit 1
fi

step "logship check on every example config"
node -e "
  const { parseAllDocuments } = require('yaml');
  const docs = parseAllDocuments(require('fs').readFileSync('docker/k8s/daemonset.yml', 'utf8'));
  for (const d of docs) if (d.errors.length > 0) throw d.errors[0];
  const cm = docs.map((d) => d.toJS()).find((d) => d.kind === 'ConfigMap');
  require('fs').writeFileSync(process.argv[1], cm.data['logship.yml']);
" "$tmp/k8s-logship.yml"
for config in docker/logship.*.yml "$tmp/k8s-logship.yml" examples/logship.yml; do
  # Placeholders for what the deployments take from their environment or secrets.
  env ES_PASSWORD=ci-placeholder NODE_NAME=ci-node ES_URL=https://elasticsearch.example:9200 \
    LOGSHIP_DATA_DIR="$tmp/data" node dist/cli.js check --config "$config"
done

step "promtool: Prometheus configs, alert rules and their unit tests; the alerts' job is the scrape configs' job"
promtool check config docker/prometheus/prometheus.yml
# Debian's promtool is built without Kubernetes service discovery: the scrape job is checked with its discovery
# swapped for a static target (the rest, relabelling included, as written), and its discovery checked below.
node -e "
  const fs = require('fs');
  const { parse, stringify } = require('yaml');
  const config = parse(fs.readFileSync('docker/k8s/prometheus-scrape.yml', 'utf8'));
  config.rule_files = config.rule_files.map((f) => require('path').resolve('docker/k8s', f));
  for (const job of config.scrape_configs) {
    const sd = job.kubernetes_sd_configs;
    if (!Array.isArray(sd) || sd.length !== 1 || sd[0].role !== 'pod') throw new Error('prometheus-scrape.yml: ' + job.job_name + ' should discover pods');
    delete job.kubernetes_sd_configs;
    job.static_configs = [{ targets: ['logship:9600'] }];
  }
  fs.writeFileSync(process.argv[1], stringify(config));
" "$tmp/k8s-scrape-static.yml"
promtool check config "$tmp/k8s-scrape-static.yml"
promtool test rules docker/prometheus/alerts.test.yml
node -e "
  const fs = require('fs');
  const { parse, parseAllDocuments } = require('yaml');
  const alerts = fs.readFileSync('docker/prometheus/alerts.yml', 'utf8');
  const jobs = new Set([...alerts.matchAll(/job=\"([^\"]+)\"/g)].map((m) => m[1]));
  if (jobs.size !== 1) throw new Error('alerts.yml should select exactly one job, found: ' + [...jobs].join(', '));
  const job = [...jobs][0];
  for (const file of ['docker/prometheus/prometheus.yml', 'docker/k8s/prometheus-scrape.yml']) {
    const names = parse(fs.readFileSync(file, 'utf8')).scrape_configs.map((c) => c.job_name);
    if (!names.includes(job)) throw new Error(file + ': no scrape job named ' + job + ' (the alerts select job=\"' + job + '\"), found ' + names.join(', '));
  }
  // The operator's PodMonitor takes the job from a pod label: the DaemonSet's pods must carry it with that value.
  const pm = parse(fs.readFileSync('docker/k8s/podmonitor.yml', 'utf8'));
  const ds = parseAllDocuments(fs.readFileSync('docker/k8s/daemonset.yml', 'utf8')).map((d) => d.toJS()).find((d) => d.kind === 'DaemonSet');
  const pod = ds.spec.template;
  if (pod.metadata.labels[pm.spec.jobLabel] !== job) throw new Error('podmonitor.yml: jobLabel ' + pm.spec.jobLabel + ' is not ' + job + ' on the DaemonSet pods');
  // An annotation-driven kubernetes-pods job would scrape the pods a second time, under a job the alerts ignore.
  if (Object.keys(pod.metadata.annotations ?? {}).some((k) => k.startsWith('prometheus.io/'))) throw new Error('daemonset.yml: drop the prometheus.io/* annotations');
  const ports = pod.spec.containers.flatMap((c) => c.ports ?? []).map((p) => p.name);
  if (!ports.includes(pm.spec.podMetricsEndpoints[0].port)) throw new Error('daemonset.yml: no container port named ' + pm.spec.podMetricsEndpoints[0].port);
"
for alert in LogshipDown LogshipDeliveryFailing LogshipLagGrowing LogshipDeadLetters LogshipRotationLoss; do
  grep -q "alert: $alert\$" docker/prometheus/alerts.yml || { echo "check-docker: alert $alert missing" >&2; exit 1; }
done

step "Grafana dashboard: JSON, and every PromQL expression parses"
node -e "
  const fs = require('fs');
  const dash = JSON.parse(fs.readFileSync('docker/grafana/dashboards/logship.json', 'utf8'));
  const exprs = [];
  const walk = (panels) => { for (const p of panels ?? []) { for (const t of p.targets ?? []) exprs.push(t.expr); walk(p.panels); } };
  walk(dash.panels);
  if (exprs.length === 0) throw new Error('no queries in the dashboard');
  const rules = exprs.map((e, i) => ({ record: 'dashboard:expr_' + i, expr: e.replaceAll('\$__rate_interval', '5m').replaceAll('\$instance', '.*') }));
  fs.writeFileSync(process.argv[1], JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
" "$tmp/dashboard-rules.yml"
promtool check rules "$tmp/dashboard-rules.yml"

step "Kibana saved objects and shell scripts"
node -e "
  const lines = require('fs').readFileSync('docker/kibana/logship.ndjson', 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const ids = new Set(lines.map((o) => o.type + ':' + o.id));
  for (const o of lines) for (const r of o.references) if (!ids.has(r.type + ':' + r.id)) throw new Error(o.id + ' refers to missing ' + r.type + ':' + r.id);
  if (!lines.some((o) => o.type === 'index-pattern' && o.attributes.title === 'logs-django-*')) throw new Error('no logs-django-* data view');
"
sh -n docker/entrypoint.sh
sh -n docker/kibana/import.sh
bash -n docker/elastic/setup.sh
node --check docker/healthcheck.mjs

echo "check-docker: ok ($checks checks)"

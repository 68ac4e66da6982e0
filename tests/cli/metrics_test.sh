#!/usr/bin/env bash
# Every component's /metrics as a monitoring system reads it: a KV node (its metrics on their
# own HTTP port, [kv] metrics_listen), a DVV node and a backup server are served on 127.0.0.1,
# given a little work, and scraped with curl; `promtool check metrics` accepts each page; the
# counters show the work done; then a real Prometheus server (Debian's, on loopback, its data
# in a temporary directory) scrapes all three and reports every target healthy. Every process
# is stopped by its pid.
set -u
doppel=${1:?usage: metrics_test.sh DOPPEL_BINARY}
command -v prometheus >/dev/null && command -v promtool >/dev/null || {
  echo "SKIP: prometheus and promtool are not installed (scripts/setup.sh installs them)"
  exit 77
}
tmp=$(mktemp -d)
. "$(dirname "$0")/serve_lib.sh"
prom_pid=""
cleanup() {
  [ -n "$prom_pid" ] && kill -9 "$prom_pid" 2>/dev/null
  serve_kill_all
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
c() { curl -s -m 10 "$@"; }
base=$((21000 + RANDOM % 8000))
kv=$base; kv_metrics=$((base + 1)); dvv=$((base + 2)); dvv_rpc=$((base + 3)); dedup=$((base + 4))
prom=$((base + 5))

cat >"$tmp/kv.toml" <<CONF
[node]
name = "kv-0"
component = "kv"
listen = "127.0.0.1:$kv"
data_dir = "$tmp/kv"
cores = 2
pin = false
[kv]
memory_mb = 16
metrics_listen = "127.0.0.1:$kv_metrics"
CONF
cat >"$tmp/dvv.toml" <<CONF
[node]
name = "dvv-0"
component = "dvv"
node_id = 0
listen = "127.0.0.1:$dvv"
peers = ["127.0.0.1:$dvv_rpc"]
data_dir = "$tmp/dvv"
cores = 2
pin = false
[dvv]
partitions = 8
CONF
cat >"$tmp/dedup.toml" <<CONF
[node]
name = "dedup-0"
component = "dedup"
listen = "127.0.0.1:$dedup"
data_dir = "$tmp/dedup"
cores = 1
pin = false
[dedup]
segment_mb = 1
CONF
for n in kv dvv dedup; do
  serve_start "$tmp/$n.out" "$tmp/$n.err" --config "$tmp/$n.toml" || {
    fail "$n did not start: $(cat "$tmp/$n.err")"
    exit 1
  }
done

# Some work for the counters: memcached sets and gets (some keys forwarded between the two
# cores), DVV writes and reads, a dedup stats call and verify.
exec 3<>"/dev/tcp/127.0.0.1/$kv"
for i in $(seq 1 20); do printf 'set key%d 0 0 1\r\nv\r\nget key%d\r\nget nokey%d\r\n' "$i" "$i" "$i" >&3; done
printf 'quit\r\n' >&3
replies=$(timeout 10 cat <&3 | grep -c '^STORED\|^VALUE\|^END')
exec 3>&-
[ "$replies" -eq 80 ] || fail "the KV answered $replies of 80 lines (STORED, VALUE, END)"
for i in 1 2 3; do
  # One node: every quorum is this node's.
  code=$(c -o /dev/null -w '%{http_code}' -X PUT -d "v$i" \
    "http://127.0.0.1:$dvv/buckets/b/keys/k$i?w=1&dw=1&pw=1")
  [ "$code" = 204 ] || fail "DVV PUT answered $code"
  c -o /dev/null "http://127.0.0.1:$dvv/buckets/b/keys/k$i?r=1&pr=1"
done
c -o /dev/null "http://127.0.0.1:$dedup/stats"
c -o /dev/null -X POST "http://127.0.0.1:$dedup/admin/verify"

kv_url="http://127.0.0.1:$kv_metrics/metrics"
dvv_url="http://127.0.0.1:$dvv/metrics"
dedup_url="http://127.0.0.1:$dedup/metrics"
for n in kv dvv dedup; do
  url_var="${n}_url"
  c -D "$tmp/$n.head" -o "$tmp/$n.metrics" "${!url_var}"
  grep -qi '^Content-Type: text/plain; version=0.0.4' "$tmp/$n.head" ||
    fail "$n /metrics: $(grep -i '^Content-Type' "$tmp/$n.head")"
  promtool check metrics <"$tmp/$n.metrics" >"$tmp/$n.promtool" 2>&1 ||
    fail "promtool refuses $n's metrics: $(head -5 "$tmp/$n.promtool")"
done
# sample NAME_AND_LABELS FILE: the value of that one series (empty if absent).
sample() { grep -F "$1 " "$2" | head -1 | awk '{print $NF}'; }
sum_of() { grep "^$1" "$2" | awk '{s += $NF} END {print s + 0}'; }
[ "$(sum_of 'doppel_kv_command_outcomes_total{core="[01]",command="get",outcome="hit"}' "$tmp/kv.metrics")" = 20 ] ||
  fail "KV get hits: $(grep 'command="get"' "$tmp/kv.metrics")"
[ "$(sum_of 'doppel_kv_command_outcomes_total{core="[01]",command="get",outcome="miss"}' "$tmp/kv.metrics")" = 20 ] ||
  fail "KV get misses"
[ "$(sum_of 'doppel_kv_items{' "$tmp/kv.metrics")" = 20 ] || fail "KV items: $(grep '^doppel_kv_items' "$tmp/kv.metrics")"
fwd=$(sum_of 'doppel_kv_forwarded_total{' "$tmp/kv.metrics")
fwd_in=$(sum_of 'doppel_kv_forwarded_in_total{' "$tmp/kv.metrics")
[ "$fwd" = "$fwd_in" ] && [ "$fwd" -gt 0 ] || fail "KV forwarded $fwd units out, $fwd_in in"
# Every unit was answered when the scrape came: the forwarding queues are empty.
[ "$(grep -c '^doppel_kv_forward_queue_depth{from="[01]",to="[01]"} 0$' "$tmp/kv.metrics")" = 2 ] ||
  fail "KV queue depth: $(grep '^doppel_kv_forward_queue_depth' "$tmp/kv.metrics")"
[ "$(sample 'doppel_dvv_requests_total{op="put",outcome="ok"}' "$tmp/dvv.metrics")" = 3 ] ||
  fail "DVV puts: $(grep '^doppel_dvv_requests_total' "$tmp/dvv.metrics")"
[ "$(sample 'doppel_http_requests_total{method="PUT",route="/buckets/{bucket}/keys/{key}",code="204"}' "$tmp/dvv.metrics")" = 3 ] ||
  fail "DVV HTTP PUTs: $(grep '^doppel_http_requests_total' "$tmp/dvv.metrics")"
[ "$(sample 'doppel_events_total{event="DvvStarted"}' "$tmp/dvv.metrics")" = 1 ] || fail "DVV events"
[ "$(sample 'doppel_dedup_verify_total{outcome="clean"}' "$tmp/dedup.metrics")" = 1 ] ||
  fail "dedup verify: $(grep verify "$tmp/dedup.metrics")"

# A real Prometheus scrapes the three every second; every target must be up.
cat >"$tmp/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: doppel
    static_configs:
      - targets: ["127.0.0.1:$kv_metrics", "127.0.0.1:$dvv", "127.0.0.1:$dedup"]
CONF
promtool check config "$tmp/prometheus.yml" >/dev/null 2>&1 || fail "promtool refuses the config"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$prom" >"$tmp/prom.log" 2>&1 &
prom_pid=$!
up=0
for _ in $(seq 60); do
  c "http://127.0.0.1:$prom/api/v1/targets" >"$tmp/targets.json" 2>/dev/null
  up=$(grep -o '"health":"up"' "$tmp/targets.json" | wc -l)
  [ "$up" -eq 3 ] && break
  sleep 0.5
done
[ "$up" -eq 3 ] || fail "Prometheus sees $up of 3 targets up: $(head -c 600 "$tmp/targets.json"; tail -3 "$tmp/prom.log")"
# What it stored answers a query: the DVV puts, as Prometheus read them.
c -G "http://127.0.0.1:$prom/api/v1/query" \
  --data-urlencode 'query=sum(doppel_dvv_requests_total{op="put",outcome="ok"})' >"$tmp/query.json"
grep -q '"value":\[[0-9.]*,"3"\]' "$tmp/query.json" || fail "Prometheus query: $(cat "$tmp/query.json")"
kill -TERM "$prom_pid"
wait "$prom_pid" 2>/dev/null
prom_pid=""

# serve_pids holds them in start order; serve_stop takes each out of it.
names=(kv dvv dedup)
pids=("${serve_pids[@]}")
for i in 0 1 2; do
  serve_stop "${pids[$i]}" TERM "$tmp/${names[$i]}.out" || fail "${names[$i]}: $serve_error"
done
[ "$failures" -eq 0 ] && echo "metrics: every component scraped by Prometheus"
exit "$failures"

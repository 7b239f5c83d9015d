#!/usr/bin/env bash
# bench/soak.sh - bounded soak: mixed load at about half the peak scan rate
# for SOAK_SECONDS (default 600), sampling sigild every 10 s, and a verdict
# on whether its resources stayed flat.
#
# Load, all on loopback:
#   - scans: bench/loadgen.c, open loop at half the peak that wrk measured
#     over the first 5 s, keep-alive connections. The codes are a batch
#     minted for the soak, big enough that every new scan has a code of
#     its own, in random order, with a rescan of a recently scanned code
#     mixed in after about one scan in five (RESCAN percent): what a
#     brand's traffic looks like. (An earlier version walked 70,000 codes
#     round and round, each scan from a new device: every code went
#     suspicious and every scan raised an alert, a clone attack rather than
#     a soak, and its bytes/scan grew as each code's state filled up.)
#   - a Python side load at a few dozen requests a second: JSON scans from
#     a handful of devices followed by consented locations, brand API
#     aggregations (operator token), code lookups and /metrics reads.
#
# Every 10 s while the load runs: sigild's RSS (VmRSS, and RssAnon, its
# heap and stacks), open descriptors (/proc/PID/fd), LMDB used bytes and
# the scans stored so far, giving LMDB bytes per scan ((used - used at
# start) / scans since start). "Flat" means the last sample is at most 10%
# above the reference sample, the first taken at 20% of the run and at
# least 30 s in (anonymous RSS: or 1 MiB; fds: or 8, since a handful of
# connections come and go); falling is fine (bytes per scan fall as
# B-tree pages fill up). The 30 s are sigild's warm-up: it keeps up to
# two generations of per-code state in memory before they reach LMDB
# (src/store/store_state.c, 2 x 32,768 codes), so for the first 10-20 s at
# this rate its heap grows to hold them and LMDB holds the log without
# the codes' rows; a 60 s run's 20% sample fell inside that. Total RSS
# is shown but not judged: it includes the pages of the data file that
# sigild has read through its LMDB map, which grow with the data.
# Prints the table and one line per resource, then "soak: N passed, N
# failed". Not part of `make test` (CI time); a reduced form:
#
#	SOAK_SECONDS=60 bench/soak.sh
#
# BIN (default ./bin), CONNS (loadgen connections, 32), RATE (skip the
# peak measurement), RESCAN (percent, 20), SIGILD_ARGS (e.g. --no-wal),
# KEEP_TMP=1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
SOAK_SECONDS=${SOAK_SECONDS:-600}
CONNS=${CONNS:-32}
RESCAN=${RESCAN:-20}
PEAK_CODES=250000
INTERVAL=10
UA='Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40'

for t in wrk python3 cc curl; do
	command -v "$t" >/dev/null || { echo "soak.sh: $t missing" >&2; exit 2; }
done
[ -x "$BIN/sigild" ] && [ -x "$BIN/sigil" ] || { echo "soak.sh: build first: make" >&2; exit 2; }
# three samples, 10 s apart, all taken under load
[ "$SOAK_SECONDS" -ge 40 ] || { echo "soak.sh: SOAK_SECONDS must be >= 40" >&2; exit 2; }
case $RESCAN in
''|*[!0-9]*) echo "soak.sh: RESCAN must be a percentage from 0 to 90" >&2; exit 2 ;;
esac
[ "$RESCAN" -le 90 ] || { echo "soak.sh: RESCAN must be a percentage from 0 to 90" >&2; exit 2; }

TMP=$(mktemp -d /tmp/sigil-soak.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -n "${KEEP_TMP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
log() { echo "soak: $*" >&2; }

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
metric() {	# metric NAME: sum of every sample of NAME
	curl -s "http://127.0.0.1:$PORT/metrics" |
	    awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%d\n", s }'
}

# ---- data: one brand, one product, an operator token ----
D=$TMP/data
S() { "$BIN/sigil" "$@" --data "$D"; }
batch_paths() {	# batch_paths COUNT OUT: an active batch, its request paths
	local id
	id=$(S batch new --brand acme --sku W1 --count "$1" --json |
	    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
	S batch activate --batch "$id" >/dev/null
	S mint --batch "$id" --format txt --out - | sed 's#^https\?://[^/]*##' >"$2"
}
log "minting $PEAK_CODES codes for the peak measurement and the side load"
S init --brand acme --base-url https://ACME.EXAMPLE >/dev/null
S product add --brand acme --sku W1 --name "Soak wine" >/dev/null
batch_paths "$PEAK_CODES" "$TMP/all.paths"
# the last 30,000 codes are the side load's (aggregations); the rest scans
tail -n 30000 "$TMP/all.paths" >"$TMP/side.paths"
head -n $((PEAK_CODES - 30000)) "$TMP/all.paths" >"$TMP/peak.paths"
TOKEN=$(S token new --brand acme --role operator --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

PORT=$(free_port)
# shellcheck disable=SC2086
"$BIN/sigild" --data "$D" --listen "127.0.0.1:$PORT" --rate-limit 0 \
    --api-rate-limit 0 ${SIGILD_ARGS:-} >"$TMP/sigild.log" 2>&1 &
SPID=$!
PIDS+=("$SPID")
for _ in $(seq 100); do
	curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
	sleep 0.1
done
cc -O2 -Wall -Wextra -o "$TMP/loadgen" "$ROOT/bench/loadgen.c"

# ---- peak, then half of it ----
if [ -z "${RATE:-}" ]; then
	PEAK=$(wrk -t1 -c"$CONNS" -d5s -H "User-Agent: $UA" -s "$ROOT/bench/scan.lua" \
	    "http://127.0.0.1:$PORT" -- "$TMP/peak.paths" |
	    awk '/Requests\/sec/ { printf "%d\n", $2 }')
	RATE=$((PEAK / 2))
	log "peak $PEAK scans/s (wrk, 5 s); soaking at $RATE/s"
else
	PEAK=n/a
fi

# ---- the soak's own codes: one per new scan, plus rescans ----
NEW=$((RATE * SOAK_SECONDS * (100 - RESCAN) / 100 + 1000))
log "minting $NEW codes for the soak (${RESCAN}% of scans are rescans)"
batch_paths "$NEW" "$TMP/new.paths"
# Random order; after a new code, with probability RESCAN/(100-RESCAN), a
# rescan of one of the last 100,000 codes scanned (fixed seeds).
shuf --random-source=<(yes) "$TMP/new.paths" |
    awk -v p="$RESCAN" 'BEGIN { srand(1); q = p / (100 - p) }
	{ ring[NR % 100000] = $0; print
	  if (rand() < q) print ring[(NR - int(rand() * (NR < 100000 ? NR : 100000))) % 100000] }' \
    >"$TMP/scan.paths"
rm -f "$TMP/new.paths"

# ---- the side load ----
cat >"$TMP/side.py" <<'PY'
import http.client, json, random, sys, time
port, token, paths_file, secs = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
UA = sys.argv[5]
paths = [l.strip() for l in open(paths_file) if l.strip()]
rnd = random.Random(1)
conn = None
counts = {}
def call(method, path, body=None, headers=None):
    global conn
    if conn is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"User-Agent": UA, "Accept": "application/json"}
    h.update(headers or {})
    data = json.dumps(body).encode() if body is not None else None
    if data:
        h["Content-Type"] = "application/json"
    try:
        conn.request(method, path, data, h)
        r = conn.getresponse()
        b = r.read()
        counts[r.status] = counts.get(r.status, 0) + 1
        return r.status, r.getheader("Set-Cookie") or "", b
    except (OSError, http.client.HTTPException):
        conn.close()
        conn = None
        counts["err"] = counts.get("err", 0) + 1
        return 0, "", b""
devices = []
nxt = 0
end = time.time() + secs
while time.time() < end:
    t0 = time.time()
    # scan + consented location
    p = rnd.choice(paths[:5000])
    hdr = {"Cookie": "sg_d=" + rnd.choice(devices)} if devices else {}
    st, cookie, b = call("GET", p, headers=hdr)
    if st == 200:
        if "sg_d=" in cookie and len(devices) < 8:
            devices.append(cookie.split("sg_d=")[1].split(";")[0])
        sid = json.loads(b)["scan_id"]
        dev = hdr.get("Cookie", "sg_d=" + (devices[-1] if devices else ""))
        call("POST", "/api/v1/scans/%s/location" % sid,
             {"lat": 30 + rnd.random(), "lng": 120 + rnd.random(), "accuracy": 20},
             {"Cookie": dev})
    # an aggregation: parent + 2 fresh children
    if nxt + 3 <= len(paths) - 5000:
        g = paths[5000 + nxt:5000 + nxt + 3]
        nxt += 3
        call("POST", "/api/v1/aggregations",
             {"parent": "https://ACME.EXAMPLE" + g[0],
              "children": ["https://ACME.EXAMPLE" + x for x in g[1:]]},
             {"Authorization": "Bearer " + token})
        call("GET", "/api/v1/codes/" + g[1].split("/")[-1], None,
             {"Authorization": "Bearer " + token})
    call("GET", "/metrics")
    time.sleep(max(0, 0.1 - (time.time() - t0)))
print("side load: %s" % json.dumps(counts, sort_keys=True))
PY

U0=$(metric sigil_lmdb_used_bytes)
N0=$(( $(metric sigil_scans_total) + $(metric sigil_bot_scans_total) ))
log "load for ${SOAK_SECONDS}s: loadgen $RATE/s over $CONNS connections + side load"
"$TMP/loadgen" rate -p "$PORT" -c "$CONNS" -r "$RATE" -d "$SOAK_SECONDS" -w 0 \
    -f "$TMP/scan.paths" -H "User-Agent: $UA" >"$TMP/loadgen.out" 2>&1 &
LPID=$!
PIDS+=("$LPID")
python3 "$TMP/side.py" "$PORT" "$TOKEN" "$TMP/side.paths" "$SOAK_SECONDS" "$UA" \
    >"$TMP/side.out" 2>&1 &
YPID=$!
PIDS+=("$YPID")

# ---- samples ----
: >"$TMP/samples"
start=$(date +%s)
while :; do
	sleep "$INTERVAL"
	t=$(( $(date +%s) - start ))
	kill -0 "$SPID" 2>/dev/null || { log "sigild died"; break; }
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$SPID/status")
	anon=$(awk '/^RssAnon/ { print $2 }' "/proc/$SPID/status")
	fds=$(ls "/proc/$SPID/fd" | wc -l)
	used=$(metric sigil_lmdb_used_bytes)
	n=$(( $(metric sigil_scans_total) + $(metric sigil_bot_scans_total) ))
	echo "$t $rss $fds $used $((n - N0)) $U0 $anon" >>"$TMP/samples"
	# only samples taken under load: stop before the load ends
	[ $((t + INTERVAL)) -ge "$SOAK_SECONDS" ] && break
done
wait "$LPID" || true
wait "$YPID" || true
LG=$(cat "$TMP/loadgen.out")
SIDE=$(cat "$TMP/side.out")
alive=yes
kill -0 "$SPID" 2>/dev/null || alive=no

python3 - "$TMP/samples" "$PEAK" "$RATE" "$LG" "$SIDE" "$alive" <<'PY'
import sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
peak, rate, lg, side, alive = sys.argv[2:7]
print("soak: peak %s scans/s, offered %s/s; loadgen: %s" % (peak, rate, lg))
print("soak: %s" % side)
print("%6s %10s %10s %5s %12s %10s %10s" % ("t_s", "rss_kib", "anon_kib", "fds", "lmdb_used", "scans", "bytes/scan"))
for t, rss, fds, used, n, u0, anon in rows:
    bps = (used - u0) / n if n else 0
    print("%6d %10d %10d %5d %12d %10d %10.1f" % (t, rss, anon, fds, used, n, bps))
passed = failed = 0
def verdict(name, ok, detail):
    global passed, failed
    print("%-4s %s %s" % ("ok" if ok else "FAIL", name, detail))
    if ok: passed += 1
    else: failed += 1
verdict("sigild alive", alive == "yes", "")
if len(rows) >= 3:
    at = max(rows[-1][0] * 0.2, 30)
    ref = next((r for r in rows if r[0] >= at), rows[-1])
    last = rows[-1]
    def flat(i, slack=0):
        a, b = ref[i], last[i]
        return b <= a * 1.10 + slack, a, b
    # RSS counts the LMDB pages sigild has touched through its read-only
    # map, which grow with the data by design; the heap is RssAnon.
    ok, a, b = flat(6, 1024)
    verdict("anonymous rss flat", ok, "(%d KiB at t=%ds, %d KiB at t=%ds; "
            "total rss %d -> %d KiB, the rest is the mapped data file)"
            % (a, ref[0], b, last[0], ref[1], last[1]))
    ok, a, b = flat(2, 8)
    verdict("fds flat", ok, "(%d at t=%ds, %d at t=%ds)" % (a, ref[0], b, last[0]))
    bref = (ref[3] - ref[5]) / ref[4] if ref[4] else 0
    blast = (last[3] - last[5]) / last[4] if last[4] else 0
    verdict("lmdb bytes/scan flat", blast <= bref * 1.10,
            "(%.1f at t=%ds, %.1f at t=%ds)" % (bref, ref[0], blast, last[0]))
else:
    verdict("enough samples", False, "(%d)" % len(rows))
print("soak: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY

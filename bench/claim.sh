#!/usr/bin/env bash
# Claims/s against scans/s on the same box, in the same run (goal: claims
# >= 0.5 x scans). One sigild, one brand, one running campaign with no
# budget or cap; CUSTOMERS phones log in through the real OTP flow (codes
# read from DATA/otp-outbox.log). Then, with wrk on its own core:
#
#   1. scans:  every code of the batch is scanned once by "its" customer's
#              device (GET /S/<code>, the durable group-commit path);
#   2. claims: every scanned code is claimed once by that same device
#              (POST /api/v1/claims: login, scan history, campaign, then
#              the writer's group commit, many claims per transaction).
#
# Both phases walk the same shuffled code list with the same connections,
# so the ratio compares the two paths and not two machines. Every claim
# must answer 201 (wrk's "Non-2xx" line would say otherwise).
#
# Usage: bench/claim.sh   (after `make`; CODES, CUSTOMERS, CONNS tune it)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
CODES=${CODES:-20000}
CUSTOMERS=${CUSTOMERS:-200}
CONNS=${CONNS:-64}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
UA='Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40'

for t in wrk python3 taskset; do
	command -v "$t" >/dev/null || { echo "claim.sh: $t missing" >&2; exit 1; }
done
[ -x "$BIN/sigild" ] && [ -x "$BIN/sigil" ] || { echo "claim.sh: build first: make" >&2; exit 1; }

TMP=$(mktemp -d /tmp/sigil-claim.XXXXXX)
SPID=
cleanup() {
	[ -n "$SPID" ] && kill -KILL "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	if [ -n "${KEEP_TMP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '== %s\n' "$*" >&2; }

D=$TMP/data
log "brand, $CODES codes, token"
"$BIN/sigil" init --brand acme --base-url https://ACME.EXAMPLE --data "$D" >/dev/null
"$BIN/sigil" product add --brand acme --sku W1 --name Wine --data "$D" >/dev/null
BATCH=$("$BIN/sigil" batch new --brand acme --sku W1 --count "$CODES" --json --data "$D" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$BIN/sigil" batch activate --batch "$BATCH" --data "$D" >/dev/null
"$BIN/sigil" mint --batch "$BATCH" --format txt --out - --data "$D" |
	sed -E 's#^https?://[^/]+##' >"$TMP/paths"
TOKEN=$("$BIN/sigil" token new --brand acme --role admin --json --data "$D" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
taskset -c "$SERVER_CPU" "$BIN/sigild" --data "$D" --listen "127.0.0.1:$PORT" \
	--rate-limit 0 --api-rate-limit 0 --trusted-proxy 127.0.0.1/32 --quiet \
	>"$TMP/sigild.log" 2>&1 &
SPID=$!
for _ in $(seq 100); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),0.2)" 2>/dev/null && break
	sleep 0.1
done

log "campaign, $CUSTOMERS customers logged in by OTP"
python3 - "$PORT" "$TOKEN" "$TMP/paths" "$D/otp-outbox.log" "$CUSTOMERS" \
	"$TMP/work" "$UA" <<'PY'
import datetime, http.client, json, random, re, sys
port, token, paths, outbox, n, out, ua = sys.argv[1:]
n = int(n)
def req(method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
    h = {"User-Agent": ua, "Content-Type": "application/json"}
    h.update(headers or {})
    c.request(method, path, json.dumps(body) if body is not None else None, h)
    r = c.getresponse()
    data = r.read()
    return r.status, r.getheader("Set-Cookie") or "", data
today = datetime.date.today()
st, _, data = req("POST", "/api/v1/campaigns", {
    "name": "bench", "skus": ["W1"], "points": 10,
    "starts": (today - datetime.timedelta(days=1)).isoformat(),
    "ends": (today + datetime.timedelta(days=30)).isoformat()},
    {"Authorization": "Bearer " + token})
assert st == 201, (st, data)
codes = [l.strip() for l in open(paths) if l.strip()]
devices = []
for i in range(n):
    ip = "10.9.%d.%d" % (i >> 8, i & 255)
    st, cookie, _ = req("GET", codes[0], headers={"X-Forwarded-For": ip})
    dev = re.search(r"sg_d=([0-9a-f.]+)", cookie).group(1)
    phone = "139%08d" % i
    h = {"Cookie": "sg_d=" + dev, "X-Forwarded-For": ip}
    st, _, data = req("POST", "/api/v1/customers/otp",
                      {"phone": phone, "code": codes[0]}, h)
    assert st == 202, (st, data)
    otp = None
    for line in open(outbox):
        m = re.search(r" phone=86%s code=(\d{6})$" % phone, line.strip())
        if m:
            otp = m.group(1)
    st, _, data = req("POST", "/api/v1/customers/verify",
                      {"phone": phone, "code": codes[0], "otp": otp}, h)
    assert st == 200, (st, data)
    devices.append(dev)
rest = codes[1:]
random.Random(7).shuffle(rest)
with open(out, "w") as f:
    for i, p in enumerate(rest):
        f.write("%s %s\n" % (p, devices[i % n]))
PY
N=$(wc -l <"$TMP/work")

# Requests the server has answered on route $1 (from /metrics).
answered() {
	python3 - "$PORT" "$1" <<'PY'
import re, sys, urllib.request
t = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1]).read().decode()
print(sum(int(n) for n in re.findall(
    r'sigil_http_requests_total\{route="%s",[^}]*\} (\d+)' % sys.argv[2], t)))
PY
}

run() {
	local route=$1 before wpid
	[ "$1" = claim ] || route=scan
	before=$(answered "$route")
	taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d300s -H "User-Agent: $UA" \
		-s "$ROOT/bench/claim.lua" "http://127.0.0.1:$PORT" -- "$TMP/work" "$1" \
		>"$TMP/wrk.$1" 2>&1 &
	wpid=$!
	# wrk calls request() once before sending to probe the script, so one
	# line of the file is never sent: N - 1 answers make a complete pass.
	while now=$(answered "$route") && [ $(( now - before )) -lt $(( N - 1 )) ] &&
	    kill -0 "$wpid" 2>/dev/null; do
		sleep 0.05
	done
	kill -INT "$wpid" 2>/dev/null || true
	wait "$wpid" || true
	cat "$TMP/wrk.$1" >&2
	if grep -q -E 'Non-2xx|Socket errors' "$TMP/wrk.$1"; then
		echo "claim.sh: $1 phase saw errors" >&2
		exit 1
	fi
	awk '/^Requests\/sec/ { print $2 }' "$TMP/wrk.$1"
}
log "phase 1: $N scans"
SCANS=$(run scan)
log "phase 2: $N claims"
CLAIMS=$(run claim)
python3 - "$SCANS" "$CLAIMS" "$N" <<'PY'
import sys
s, c, n = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
r = c / s
print("scans/s   %10.0f   (%s codes, durable group commit)" % (s, n))
print("claims/s  %10.0f   (same codes, same devices)" % c)
print("ratio     %10.2f   goal >= 0.50  %s" % (r, "MET" if r >= 0.5 else "NOT MET"))
PY

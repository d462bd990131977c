# Shared by the load scripts in bench/ (sourced, not run): tools, ports, a signed-in cookie,
# one wrk round, and medians.

# need TOOL...: exits when a tool is missing.
need() {
    local tool
    for tool in "$@"; do
        type -P "$tool" >/dev/null || { echo "needs $tool (apt-get install wrk curl util-linux python3)" >&2; exit 2; }
    done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_healthy PORT: until /healthz answers (10 s at most).
wait_healthy() {
    local _
    for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/healthz" && return 0; sleep 0.05; done
    echo "no server on port $1" >&2
    return 1
}

# credentials_cookie PORT JAR: a Cookie header signed in through the `password` credentials
# provider (username bench, password pw) of the server on PORT.
credentials_cookie() {
    local port=$1 jar=$2 csrf
    csrf=$(curl -s -c "$jar" "http://127.0.0.1:$port/api/auth/csrf" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrfToken"])')
    curl -s -o /dev/null -b "$jar" -c "$jar" --data-urlencode "csrfToken=$csrf" \
        --data "username=bench&password=pw" "http://127.0.0.1:$port/api/auth/callback/password"
    # curl marks HttpOnly cookies with a `#HttpOnly_` prefix; other `#` lines are comments.
    sed 's/^#HttpOnly_//' "$jar" | awk '!/^#/ && NF == 7 { printf "%s%s=%s", sep, $6, $7; sep = "; " }'
}

# wrk_round LABEL SECONDS URL COOKIE: wrk on core 1 with 50 connections; prints req/s, p99
# and any non-2xx for LABEL, and sets WRK_RPS.
wrk_round() {
    local label=$1 seconds=$2 url=$3 cookie=$4 out p99 non2xx
    out=$(taskset -c 1 wrk -t1 -c50 -d"${seconds}s" --latency -H "Cookie: $cookie" "$url")
    WRK_RPS=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    non2xx=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
    printf '%-24s %10s req/s  p99 %-8s%s\n' "$label" "$WRK_RPS" "$p99" "${non2xx:+  non-2xx $non2xx}"
}

# median_ratio NAME_A "A1 A2 ..." NAME_B "B1 B2 ...": the medians and A/B.
median_ratio() {
    python3 - "$@" <<'PY'
import statistics, sys
name_a, a, name_b, b = sys.argv[1:5]
a = statistics.median(float(x) for x in a.split())
b = statistics.median(float(x) for x in b.split())
print(f"median {name_a} {a:.0f} req/s, {name_b} {b:.0f} req/s, ratio {a / b:.3f}")
PY
}

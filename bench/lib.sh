# Shared by the load scripts in bench/ (sourced, not run): tools, ports, a signed-in cookie,
# one wrk round, and medians.

# Servers run as on a machine with no backtrace settings: RUST_BACKTRACE=1 makes every
# refused token capture a backtrace (src/telemetry/backtraces.rs).
unset RUST_BACKTRACE RUST_LIB_BACKTRACE

# need TOOL...: exits when a tool is missing.
need() {
    local tool
    for tool in "$@"; do
        type -P "$tool" >/dev/null || { echo "needs $tool (apt-get install wrk curl util-linux python3)" >&2; exit 2; }
    done
}

# busy_percent SECONDS: how busy all cores were over SECONDS, in percent (from /proc/stat).
# Run before a benchmark starts its servers, it shows what else the machine is doing.
busy_percent() {
    local _ user nice system idle iowait irq softirq steal total_before idle_before
    read -r _ user nice system idle iowait irq softirq steal _ </proc/stat
    total_before=$((user + nice + system + idle + iowait + irq + softirq + steal))
    idle_before=$((idle + iowait))
    sleep "$1"
    read -r _ user nice system idle iowait irq softirq steal _ </proc/stat
    local total=$((user + nice + system + idle + iowait + irq + softirq + steal - total_before))
    local busy=$((total - (idle + iowait - idle_before)))
    python3 -c "print(f'{100 * $busy / max($total, 1):.1f}')"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_healthy PORT: until /healthz answers (10 s at most).
wait_healthy() {
    local _
    for _ in $(seq 1000); do curl -s -o /dev/null "http://127.0.0.1:$1/healthz" && return 0; sleep 0.01; done
    echo "no server on port $1" >&2
    return 1
}

# csrf_token PORT JAR: a CSRF token, its cookie kept in JAR.
csrf_token() {
    curl -s -c "$2" "http://127.0.0.1:$1/api/auth/csrf" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrfToken"])'
}

# jar_cookies JAR: the cookies of JAR as a Cookie header.
jar_cookies() {
    # curl marks HttpOnly cookies with a `#HttpOnly_` prefix; other `#` lines are comments.
    sed 's/^#HttpOnly_//' "$1" | awk '!/^#/ && NF == 7 { printf "%s%s=%s", sep, $6, $7; sep = "; " }'
}

# credentials_cookie PORT JAR [PROVIDER]: a Cookie header signed in through the credentials
# provider PROVIDER (default `password`; username bench, password pw) of the server on PORT.
credentials_cookie() {
    local port=$1 jar=$2 provider=${3:-password} csrf
    csrf=$(csrf_token "$port" "$jar")
    curl -s -o /dev/null -b "$jar" -c "$jar" --data-urlencode "csrfToken=$csrf" \
        --data "username=bench&password=pw" "http://127.0.0.1:$port/api/auth/callback/$provider"
    jar_cookies "$jar"
}

# The jwt and session callbacks of the load scripts that compare a session read with and
# without them: the token as it came, and the user's id copied into the session.
BENCH_CALLBACKS='callbacks:
  jwt: |
    token
  session: |
    session.user.id = if token != () { token.sub } else { user.id };
    session'

# start_signed_in NAME BINARY WORK EXTRA: starts BINARY with one worker on core 0, a
# credentials provider (username bench, password pw), JWE sessions, no sign-in limits and
# the YAML EXTRA (callbacks, or nothing), its files in WORK, and signs in. Sets NAME_port,
# NAME_pid and NAME_cookie, and adds the pid to the caller's `pids` array.
start_signed_in() {
    local name=$1 binary=$2 work=$3 extra=$4 port cookie
    port=$(free_port)
    cat > "$work/$name.yaml" <<YAML
url: http://127.0.0.1:$port
secret: bench-secret-0123456789abcdef0123456789abcdef
rateLimits:
  credentials: {perUsername: "off", perIp: "off"}
providers:
  - id: password
    type: credentials
    credentials:
      username: {}
      password: { type: password }
    authorize: |
      if credentials.password == "pw" { #{ id: "bench-user", name: "Bench", email: "bench@example.com" } } else { () }
$extra
jwt:
  encryption: true
logging:
  level: warn
  audit: "off"
server:
  listen: 127.0.0.1:$port
  workers: 1
  admin:
    enabled: false
YAML
    taskset -c 0 "$binary" --config "$work/$name.yaml" serve > /dev/null 2> "$work/$name.log" &
    pids+=($!)
    printf -v "${name}_pid" '%s' $!
    printf -v "${name}_port" '%s' "$port"
    wait_healthy "$port"
    cookie=$(credentials_cookie "$port" "$work/$name.jar")
    # Without a session cookie every /session row would time the empty answer.
    [[ $cookie == *session-token=* ]] || {
        echo "the $name server did not sign in; the end of its log:" >&2
        tail -n 20 "$work/$name.log" >&2
        exit 1
    }
    printf -v "${name}_cookie" '%s' "$cookie"
}

# cpu_ticks PID: the clock ticks (user and system) PID has run for.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# wrk_round LABEL SECONDS URL COOKIE [LUA]: wrk on core 1 with 50 connections (running the
# LUA script when given, and sending the header WRK_EXTRA_HEADER when set); prints req/s, p50, p99 and any non-2xx/3xx for LABEL, and sets
# WRK_RPS, WRK_P50 and WRK_P99 (milliseconds).
wrk_round() {
    local label=$1 seconds=$2 url=$3 cookie=$4 lua=${5:-} out errors
    local args=(-t1 -c50 -d"${seconds}s" --latency)
    [ -n "$cookie" ] && args+=(-H "Cookie: $cookie")
    [ -n "$lua" ] && args+=(-s "$lua")
    [ -n "${WRK_EXTRA_HEADER:-}" ] && args+=(-H "$WRK_EXTRA_HEADER")
    out=$(taskset -c 1 wrk "${args[@]}" "$url")
    WRK_RPS=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
    WRK_P50=$(awk '$1 == "50%" { print $2 }' <<<"$out" | to_ms)
    WRK_P99=$(awk '$1 == "99%" { print $2 }' <<<"$out" | to_ms)
    errors=$(awk '/Non-2xx or 3xx/ { print $NF }' <<<"$out")
    printf '%-28s %10s req/s  p50 %7s ms  p99 %7s ms%s\n' "$label" "$WRK_RPS" "$WRK_P50" "$WRK_P99" "${errors:+  non-2xx/3xx $errors}"
}

# to_ms: wrk's latency (`812.00us`, `3.41ms`, `1.02s`) in milliseconds.
to_ms() {
    awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 } printf "%.2f", v }'
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

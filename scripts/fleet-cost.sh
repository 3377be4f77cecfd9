#!/usr/bin/env bash
# Idle cost of a headless fleet, for comparing two builds side by side:
#   scripts/fleet-cost.sh BIN [ENDPOINTS] [SECS]
# Starts `BIN serve` on port 40777, watches ENDPOINTS (10,000) endpoints of it with a 15 s
# heartbeat, waits until all are open and 20 s more, then prints the CPU share over SECS (60)
# from /proc/PID/stat and the RSS. Needs a file limit of 2 x ENDPOINTS + a few (ulimit -n).
set -euo pipefail
BIN=$(readlink -f "$1"); N=${2:-10000}; SECS=${3:-60}
DIR=$(mktemp -d); trap 'kill $W $SRV 2>/dev/null; rm -rf "$DIR"' EXIT
{ echo 'ping_interval = "15s"'
  for i in $(seq -f %05g 0 $((N - 1))); do
    printf '\n[[endpoint]]\nname = "ep-%s"\nurl = "ws://127.0.0.1:40777/ep-%s"\n' "$i" "$i"
  done; } > "$DIR/fleet.toml"
"$BIN" serve --port 40777 >/dev/null 2>&1 & SRV=$!
sleep 0.5
WSMON_DATA_DIR="$DIR/data" "$BIN" --headless --config "$DIR/fleet.toml" >/dev/null 2>&1 & W=$!
for i in $(seq 1 60); do
  open=$(ss -tn state established '( sport = :40777 )' | tail -n +2 | wc -l)
  [ "$open" -ge "$N" ] && break
  sleep 1
done
echo "$open of $N open after about ${i}s"
sleep 20
t0=$(awk '{print $14+$15}' /proc/$W/stat); sleep "$SECS"; t1=$(awk '{print $14+$15}' /proc/$W/stat)
rss=$(awk '/VmRSS/{print $2}' /proc/$W/status)
awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v s="$SECS" -v r="$rss" \
  'BEGIN { printf "CPU %.2f%% of a core over %ds; RSS %.1f MB\n", t * 100 / hz / s, s, r / 1024 }'

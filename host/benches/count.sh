#!/usr/bin/env bash
# Instructions per request by callgrind, which counts the same on a busy machine as on an
# idle one: each route answers a case 1 and 6 times; (6 - 1) / 5 is the steady-state cost
# of one request (settings and trust policies already cached, module already compiled).
#
# Usage: host/benches/count.sh [routes] [cases]
#   routes: floor native native-cold wapc wit (default: floor native)
#   cases:  1 10 100 unchanged                 (default: all four)
set -euo pipefail
cd "$(dirname "$0")/../.."
routes=${1:-floor native}
cases=${2:-1 10 100 unchanged}
bench=$(cargo bench -p awi --bench policy --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "policy":
        print(m["executable"])')
count() {
  AWI_BENCH_COUNT="$1 $2 $3" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
echo "| case | $(echo $routes | sed 's/ / | /g') |"
echo "| --- |$(for _ in $routes; do printf ' ---: |'; done)"
for case in $cases; do
  row="| $case |"
  for route in $routes; do
    one=$(count "$route" "$case" 1)
    six=$(count "$route" "$case" 6)
    row="$row $(printf "%d" $(((six - one) / 5))) |"
  done
  echo "$row"
done

#!/usr/bin/env bash
# Runs one chatcap load test as N shard processes on this machine, all starting on the same
# instant, then merges their results into one summary (exit code 1 when a --threshold fails).
#
#   deploy/shell/run-shards.sh N OUTDIR [loadtest flags...]
#   deploy/shell/run-shards.sh 4 out --host http://10.0.0.5:8080 --profile p.toml \
#       --duration 60s --time-scale 60 --agent-token T --threshold 'wait_p90<30s'
#
# On several machines, run on each `chatcap loadtest ... --shard K/N --start-at TIME --result
# shard-K.json` with the same flags and TIME (clocks in sync, e.g. by NTP), collect the files
# and run `chatcap loadtest merge shard-*.json`. CHATCAP names the binary (default: chatcap on
# the PATH); START_IN the seconds from now to the common start (default 20).
set -euo pipefail

if [[ $# -lt 2 ]] || ! [[ $1 =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 N OUTDIR [chatcap loadtest flags...]" >&2
    exit 2
fi
shards=$1
out=$2
shift 2
chatcap=${CHATCAP:-chatcap}
mkdir -p "$out"

# Thresholds are judged on the merged run, not per shard.
flags=()
thresholds=()
while [[ $# -gt 0 ]]; do
    if [[ $1 == --threshold ]]; then
        thresholds+=("$1" "${2:?--threshold needs a rule}")
        shift 2
    else
        flags+=("$1")
        shift
    fi
done

start_at=$(( $(date +%s) + ${START_IN:-20} ))
pids=()
stop_all() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap stop_all INT TERM

for k in $(seq 1 "$shards"); do
    "$chatcap" --quiet --format json --out "$out/summary-$k.json" loadtest "${flags[@]}" \
        --shard "$k/$shards" --start-at "$start_at" --result "$out/shard-$k.json" \
        2>"$out/shard-$k.log" &
    pids+=("$!")
done

failed=0
for k in $(seq 1 "$shards"); do
    if ! wait "${pids[$((k - 1))]}"; then
        echo "shard $k/$shards failed: see $out/shard-$k.log" >&2
        failed=1
    fi
done
if [[ $failed -ne 0 ]]; then
    exit 2
fi

results=()
for k in $(seq 1 "$shards"); do results+=("$out/shard-$k.json"); done
exec "$chatcap" loadtest merge "${results[@]}" "${thresholds[@]}"

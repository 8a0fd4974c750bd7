#!/usr/bin/env bash
# Runs a sharded chatcap load test as the Indexed Job of loadtest-job.yaml and merges the
# shards' results into one summary (exit code 1 when a --threshold fails).
#
#   deploy/kubernetes/run.sh SHARDS PROFILE TARGET_HOST DURATION TIME_SCALE [merge flags...]
#   deploy/kubernetes/run.sh 8 p.toml http://chat.default.svc:8080 300s 60 --threshold 'wait_p90<30s'
#
# IMAGE (default chatcap:latest, built with deploy/Dockerfile), EXTRA_FLAGS (more loadtest
# flags, e.g. "--agents 40 --drain 120s"), START_IN (seconds until the common start, default
# 120: enough for every pod to be scheduled and pull the image) and OUT (default chatcap-out)
# are read from the environment. Needs kubectl, envsubst (gettext) and chatcap locally.
set -euo pipefail

if [[ $# -lt 5 ]]; then
    echo "usage: $0 SHARDS PROFILE TARGET_HOST DURATION TIME_SCALE [merge flags...]" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
export SHARDS=$1 TARGET_HOST=$3 DURATION=$4 TIME_SCALE=$5
profile=$2
shift 5
export IMAGE=${IMAGE:-chatcap:latest} EXTRA_FLAGS=${EXTRA_FLAGS:-}
export START_AT=$(( $(date +%s) + ${START_IN:-120} ))
out=${OUT:-chatcap-out}
mkdir -p "$out"

kubectl create configmap chatcap-profile --from-file=profile.toml="$profile" \
    --dry-run=client -o yaml | kubectl apply -f -
kubectl delete job chatcap-loadtest --ignore-not-found --wait=true
envsubst '${SHARDS} ${START_AT} ${TARGET_HOST} ${DURATION} ${TIME_SCALE} ${EXTRA_FLAGS} ${IMAGE}' \
    <"$here/loadtest-job.yaml" | kubectl apply -f -

# Complete or failed, whichever comes first (a failed shard fails the Job: backoffLimit 0).
kubectl wait job/chatcap-loadtest --for=condition=complete --timeout=24h &
complete=$!
kubectl wait job/chatcap-loadtest --for=condition=failed --timeout=24h &
failed=$!
wait -n "$complete" "$failed" || true
kill "$complete" "$failed" 2>/dev/null || true

results=()
for i in $(seq 0 $((SHARDS - 1))); do
    file="$out/shard-$((i + 1)).json"
    kubectl logs --tail=-1 \
        -l "job-name=chatcap-loadtest,batch.kubernetes.io/job-completion-index=$i" |
        sed -n 's/^CHATCAP-RESULT //p' | base64 -d >"$file"
    if [[ ! -s $file ]]; then
        echo "shard $((i + 1))/$SHARDS left no result: kubectl logs -l batch.kubernetes.io/job-completion-index=$i" >&2
        exit 2
    fi
    results+=("$file")
done
exec chatcap loadtest merge "${results[@]}" "$@"

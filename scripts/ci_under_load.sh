#!/usr/bin/env bash
# Run `.ci/run` on a fresh clone N times while a two-process CPU hog runs; print the pass count.
#
#   scripts/ci_under_load.sh [N]        # N runs (default 3), each on its own fresh clone of HEAD
#   scripts/ci_under_load.sh --smoke    # one run of a trivial command: checks the harness only
#
# CI_UNDER_LOAD_CMD overrides the command run in each clone (default: .ci/run). Each run's output
# is kept in $OUT_DIR (default: a temp directory, printed). The hog is two busy shell loops, the
# "two-process CPU hog" the reliability promise is stated against; they are stopped on exit.
set -euo pipefail

runs=3
cmd="${CI_UNDER_LOAD_CMD:-.ci/run}"
if [[ "${1:-}" == "--smoke" ]]; then
    runs=1
    cmd="${CI_UNDER_LOAD_CMD:-bash -n .ci/run}"
elif [[ -n "${1:-}" ]]; then
    runs="$1"
fi
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "ci_under_load: N must be a whole number of runs, e.g. 3" >&2
    exit 2
fi

repo="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)"
head="$(git -C "$repo" rev-parse HEAD)"
out_dir="${OUT_DIR:-$(mktemp -d -t envparity-ci-under-load-XXXXXX)}"
mkdir -p "$out_dir"

hogs=()
stop_hogs() {
    for pid in "${hogs[@]:-}"; do
        [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
    done
    for pid in "${hogs[@]:-}"; do
        [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true
    done
    hogs=()
}
trap stop_hogs EXIT INT TERM

passed=0
for i in $(seq "$runs"); do
    clone="$out_dir/clone-$i"
    rm -rf "$clone"
    git clone --quiet --no-local "$repo" "$clone"
    git -C "$clone" checkout --quiet "$head"
    for _ in 1 2; do
        bash -c 'while :; do :; done' &
        hogs+=("$!")
    done
    started=$(date +%s)
    if (cd "$clone" && bash -c "$cmd") >"$out_dir/run-$i.log" 2>&1; then
        result=passed
        passed=$((passed + 1))
    else
        result="FAILED (exit $?)"
    fi
    stop_hogs
    echo "run $i/$runs: $result in $(( $(date +%s) - started )) s, load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?'); log: $out_dir/run-$i.log"
done
echo "ci under load: $passed/$runs passed (commit ${head:0:12}, command: $cmd, 2-process CPU hog)"
[[ "$passed" == "$runs" ]]

#!/usr/bin/env bash
# CI drift gate: snapshot this job's environment, diff it against a baseline, publish the reports.
#
#   scripts/ci-drift.sh BASELINE [envparity check options: --role R --label k=v --python PATH ...]
#
# BASELINE is a snapshot JSON file (e.g. an artifact of the training job: no database needed) or
# any ref the store resolves (an id, a tag, latest:role=training) with ENVPARITY_DB_URL set.
#
# Settings (environment):
#   ENVPARITY_FAIL_ON     info | warning | error (default) | never
#   ENVPARITY_POLICY      a TOML policy file (default: [tool.envparity] of ./pyproject.toml)
#   ENVPARITY_REPORT_DIR  where reports go (default: envparity-report)
#   ENVPARITY             the command to run (default: envparity), e.g. "python -m envparity"
#   GITHUB_STEP_SUMMARY   set by GitHub Actions: the Markdown report is appended to it (once)
#   GITHUB_ACTIONS        set by GitHub Actions: each finding is also printed as an annotation
#
# Writes snapshot.json, drift.json, drift.md, drift.xml (JUnit) and drift.html to the report
# directory (every format with the same policy and fail-on, so the JUnit failures are exactly the
# findings that fail the gate), prints the text report, and exits with envparity's code: 0 no
# drift at or above fail-on, 1 drift at or above it, 2 bad input, 3 store unreachable.
set -euo pipefail

if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
    echo "usage: $0 BASELINE [envparity check options]" >&2
    exit 2
fi
baseline=$1
shift

read -r -a envparity <<<"${ENVPARITY:-envparity}"
summary=${GITHUB_STEP_SUMMARY:-}
# diff and check append to $GITHUB_STEP_SUMMARY themselves: only the Markdown run below may.
export GITHUB_STEP_SUMMARY=
dir=${ENVPARITY_REPORT_DIR:-envparity-report}
fail_on=${ENVPARITY_FAIL_ON:-}
mkdir -p "$dir"

common=()
if [ -n "${ENVPARITY_POLICY:-}" ]; then
    common+=(--policy "$ENVPARITY_POLICY")
fi
if [ -n "$fail_on" ]; then
    common+=(--fail-on "$fail_on")
fi

# One capture (kept as snapshot.json); every format is then rendered from the same two snapshots.
# Exit 1 (drift) is the gate's business at the end; 2 (bad input) or 3 (store) stop here.
status=0
"${envparity[@]}" check --baseline "$baseline" --snapshot-output "$dir/snapshot.json" \
    --format json -o "$dir/drift.json" ${common[@]+"${common[@]}"} "$@" || status=$?
if [ "$status" -gt 1 ]; then
    exit "$status"
fi

for pair in markdown:drift.md junit:drift.xml html:drift.html; do
    status=0
    step_summary=
    if [ "${pair%%:*}" = markdown ]; then
        step_summary=$summary
    fi
    GITHUB_STEP_SUMMARY=$step_summary "${envparity[@]}" diff "$baseline" "$dir/snapshot.json" \
        ${common[@]+"${common[@]}"} --format "${pair%%:*}" -o "$dir/${pair#*:}" 2>/dev/null \
        || status=$?
    if [ "$status" -gt 1 ]; then
        exit "$status"
    fi
done

# In GitHub Actions, one annotation per finding (::error / ::warning / ::notice).
if [ "${GITHUB_ACTIONS:-}" = true ]; then
    "${envparity[@]}" diff "$baseline" "$dir/snapshot.json" ${common[@]+"${common[@]}"} \
        --format github 2>/dev/null | grep '^::' || true
fi

# The text report last, so it ends the log; its exit code is the gate.
status=0
"${envparity[@]}" diff "$baseline" "$dir/snapshot.json" ${common[@]+"${common[@]}"} || status=$?
echo "envparity: reports in $dir/ (drift.md, drift.xml, drift.html, drift.json)" >&2
exit "$status"

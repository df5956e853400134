#!/usr/bin/env bash
# Runs every Scripts/e2e/test_*.{sh,py} against the chat binary given as $1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
chat="${1:?usage: run.sh PATH/TO/chat}"
failed=0
for test in "$here"/test_*; do
    name="$(basename "$test")"
    echo "-- $name" >&2
    case "$test" in
        *.py) runner=(python3 "$test") ;;
        *) runner=(bash "$test") ;;
    esac
    if timeout 120 "${runner[@]}" "$chat"; then
        echo "   ok" >&2
    else
        echo "   FAILED: $name" >&2
        failed=1
    fi
done
exit $failed

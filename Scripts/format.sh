#!/usr/bin/env bash
# Formats every Swift file with swift-format and swift-nio's settings (.swift-format);
# `Scripts/format.sh --lint` only reports what it would change.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.swift')
if [ "${1:-}" = "--lint" ]; then
    swift format lint --strict --parallel $files
else
    swift format format --in-place --parallel $files
fi

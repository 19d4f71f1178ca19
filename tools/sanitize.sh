#!/usr/bin/env bash
# Runs the test suite under a sanitizer: tools/sanitize.sh address|thread
#
# Builds in release with --sanitize=KIND into .build-KIND (the normal build stays as it is), then runs
# `swift test` there; the commands the tests start are the sanitized builds beside the test bundle. The
# C consumer and Embedded tests link the normal build's libvaert (tools/test.sh makes it first).
# Leak reports from the toolchain's own libraries are suppressed by tools/sanitizers/lsan.supp.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: tools/sanitize.sh address|thread}
case $kind in address|thread) ;; *) echo "usage: tools/sanitize.sh address|thread" >&2; exit 2 ;; esac
export LSAN_OPTIONS="suppressions=$PWD/tools/sanitizers/lsan.supp"
export TSAN_OPTIONS="halt_on_error=1"
export VAERT_SANITIZER=$kind
export VAERT_REQUIRE_ARTIFACTS=1
swift build -c release --build-tests --sanitize="$kind" --scratch-path ".build-$kind"
swift test -c release --skip-build --sanitize="$kind" --scratch-path ".build-$kind" --disable-xctest

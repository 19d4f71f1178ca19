#!/usr/bin/env bash
# The test command: builds everything in release (tests run the real kernels at speed), checks the
# kernels' assembly, lays out libvaert with its pkg-config files (the C consumer tests compile against
# them), builds the Embedded Swift runtime for the host and the cross targets (failing when a target's
# decode-only size grows past tools/embedded-budgets.txt; the Embedded tests link the host library),
# then runs the suite (a plain `swift test` skips the suites that need those artifacts, naming the script),
# and the latent explorer's pages in headless Chromium (Tests/browser/explorer_test.py).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release
tools/check-kernel-asm.sh
tools/build-lib.sh
tools/build-embedded.sh all --check-budgets
# Every suite runs: those that need the artifacts above fail rather than skip when one is missing.
VAERT_REQUIRE_ARTIFACTS=1 swift test -c release --disable-xctest
/usr/bin/python3 Tests/browser/explorer_test.py

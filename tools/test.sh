#!/usr/bin/env bash
# The test command: builds everything in release (tests run the real kernels at speed), lays out
# libvaert with its pkg-config files (the C consumer tests compile against them), runs the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release
tools/check-kernel-asm.sh
tools/build-lib.sh
swift test -c release --disable-xctest

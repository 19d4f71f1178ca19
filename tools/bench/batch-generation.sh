#!/usr/bin/env bash
# Batch generation with decode-cli sample, in one run, on the course VAE (tools/models/fashion-vae.vaert):
#   - JPEG folder: 200,000 samples on 2 threads (durable at exit: one sync at the end), and on 1 thread;
#   - the file system's own floor for that job: the same number of files of the mean JPEG size, written
#     and renamed the same way by a C program (tools/bench/fs_floor.c), without decoding or encoding;
#   - tar shards: 1,000,000 samples on 2 threads;
#   - peak RSS for 10,000 and 1,000,000 samples (tar) and for 10,000 and 200,000 (JPEG folder).
# Output goes to a fresh folder on the file system of BENCH_DIR (default: .build/bench-out), deleted only
# at the end: ext4 allocates inodes more slowly right after many files were deleted. Prints a markdown table.
# Usage: tools/bench/batch-generation.sh [JPEG_COUNT [TAR_COUNT]]
set -euo pipefail
cd "$(dirname "$0")/../.."
jpegs=${1:-200000}; tars=${2:-1000000}
swift build -c release --product decode-cli >&2
root=${BENCH_DIR:-$PWD/.build/bench-out}
mkdir -p "$root"
work=$(mktemp -d "$root/run-XXXXXX")
trap 'rm -rf "$work"' EXIT
cc -O2 -pthread tools/bench/fs_floor.c -o "$work/fs_floor"
model=tools/models/fashion-vae.vaert
echo "machine: $(lscpu | sed -n 's/^Model name: *//p') (family $(sed -n 's/^cpu family\t*: //p' /proc/cpuinfo | head -1), model $(sed -n 's/^model\t*: //p' /proc/cpuinfo | head -1)), $(nproc) cores; $(df -T "$root" | awk 'NR == 2 {print $2}') at $root; $(date -u +%Y-%m-%d)"

# run NAME ARGS...: decode-cli sample; prints "images/s peak_KB" (VmHWM polled while it runs).
run() {
    local name=$1; shift
    .build/release/decode-cli sample --weights "$model" "$@" --out "$work/$name" > "$work/$name.log" 2>&1 &
    local pid=$! peak=0 hwm
    while kill -0 $pid 2>/dev/null; do
        hwm=$(awk '/^VmHWM:/ {print $2}' /proc/$pid/status 2>/dev/null || true)
        [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
        sleep 0.05
    done
    wait $pid || { cat "$work/$name.log" >&2; exit 1; }
    echo "$(sed -n 's/.* \([0-9]*\) images\/s$/\1/p' "$work/$name.log" | tail -1) $peak"
}

read -r jpeg2 jpeg2_rss <<<"$(run jpeg-2 --count "$jpegs" --threads 2)"
mean=$(( $(du -sb --exclude=vaert-job.json "$work/jpeg-2" | cut -f1) / jpegs ))
floor=$("$work/fs_floor" "$work/floor" "$jpegs" "$mean" 2)
read -r jpeg1 _ <<<"$(run jpeg-1 --count "$jpegs" --threads 1)"
read -r _ jpeg_small_rss <<<"$(run jpeg-small --count 10000 --threads 2)"
read -r tar2 tar_rss <<<"$(run tar-2 --count "$tars" --format tar --threads 2)"
read -r _ tar_small_rss <<<"$(run tar-small --count 10000 --format tar --threads 2)"

echo
echo "| what | images/s | peak RSS |"
echo "| --- | --- | --- |"
echo "| \`sample --out DIR\`, $jpegs JPEGs, 2 threads, synced at exit | $jpeg2 | $((jpeg2_rss / 1024)) MB |"
echo "| the same, 1 thread | $jpeg1 | |"
echo "| \`sample --out DIR\`, 10000 JPEGs, 2 threads | | $((jpeg_small_rss / 1024)) MB |"
echo "| \`sample --format tar\`, $tars images, 2 threads, synced at exit | $tar2 | $((tar_rss / 1024)) MB |"
echo "| \`sample --format tar\`, 10000 images, 2 threads | | $((tar_small_rss / 1024)) MB |"
echo
echo "file system floor (fs_floor, C, no decoding or JPEG): $floor"

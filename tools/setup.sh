#!/usr/bin/env bash
# Installs what vaert needs from Debian: libjpeg and zlib headers, pkg-config, gzip, the Fashion-MNIST
# data set, qemu-user (a test runs libvaert on an x86-64 without AVX), cmake (a test builds the C
# example with find_package(vaert)), and for the bare-metal boards of tools/device/run.sh
# qemu-system-arm, qemu-system-misc (RV32) and gcc-arm-none-eabi (only its libgcc.a is used); for the
# latent explorer's browser tests (Tests/browser) chromium, chromium-driver, python3-selenium and python3-numpy.
# Skips the install when everything is already there.
set -euo pipefail
packages=(libjpeg-dev zlib1g-dev pkg-config gzip dataset-fashion-mnist qemu-user cmake qemu-system-arm qemu-system-misc gcc-arm-none-eabi
          chromium chromium-driver python3-selenium python3-numpy)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update
    $sudo apt-get install -y "${missing[@]}"
fi

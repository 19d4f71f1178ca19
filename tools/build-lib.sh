#!/usr/bin/env bash
# Builds libvaert (shared and static, release) and lays out a prefix with the header and pkg-config files:
#   PREFIX/include/vaert.h  PREFIX/lib/libvaert.so  PREFIX/lib/libvaert.a  PREFIX/lib/pkgconfig/vaert{,-static}.pc
# Usage: tools/build-lib.sh [PREFIX]        (default: .build/vaert)
# Then:  export PKG_CONFIG_PATH=PREFIX/lib/pkgconfig
#        cc app.c $(pkg-config --cflags --libs vaert)           # shared
#        cc app.c $(pkg-config --cflags --libs vaert-static)    # static, Swift runtime linked in
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(realpath -m "${1:-.build/vaert}")

swift build -c release --product vaert >&2
swift build -c release --product vaert-static >&2
bin=$(swift build -c release --show-bin-path)

mkdir -p "$prefix/include" "$prefix/lib/pkgconfig"
cp Include/vaert.h "$prefix/include/"
cp "$bin/libvaert.so" "$prefix/lib/libvaert.so.tmp" && mv "$prefix/lib/libvaert.so.tmp" "$prefix/lib/libvaert.so"
cp "$bin/libvaert-static.a" "$prefix/lib/libvaert.a.tmp" && mv "$prefix/lib/libvaert.a.tmp" "$prefix/lib/libvaert.a"

# The Swift runtime: the shared library finds it through its RUNPATH; the static one links it in.
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")
swift_static="$toolchain/lib/swift_static/linux"
version=$(sed -n 's/^#define VAERT_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' Include/vaert.h | paste -sd.)

write_pc() {  # name, Libs line
    cat > "$prefix/lib/pkgconfig/$1.pc.tmp" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: $1
Description: vaert runtime: encode, decode and sample autoencoders and VAEs, JPEG output
Version: $version
Cflags: -I\${includedir}
Libs: $2
PC
    mv "$prefix/lib/pkgconfig/$1.pc.tmp" "$prefix/lib/pkgconfig/$1.pc"
}
write_pc vaert "-L\${libdir} -lvaert -Wl,-rpath,\${libdir}"
write_pc vaert-static "\${libdir}/libvaert.a $swift_static/x86_64/swiftrt.o -L$swift_static -lswiftCore -lswift_Concurrency -lswift_StringProcessing -lswift_RegexParser -ldispatch -lBlocksRuntime -lstdc++ -ldl -lpthread -lm -ljpeg"
echo "libvaert $version in $prefix (export PKG_CONFIG_PATH=$prefix/lib/pkgconfig)"

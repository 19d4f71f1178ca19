#!/usr/bin/env bash
# Builds libvaert (shared and static, release) and lays out a prefix with the header, pkg-config and CMake files:
#   PREFIX/include/vaert.h  PREFIX/lib/libvaert.so  PREFIX/lib/libvaert.a  PREFIX/lib/pkgconfig/vaert{,-static}.pc
#   PREFIX/lib/cmake/vaert/vaertConfig.cmake, vaertConfigVersion.cmake
# Usage: tools/build-lib.sh [PREFIX]        (default: .build/vaert)
# Then:  export PKG_CONFIG_PATH=PREFIX/lib/pkgconfig
#        cc app.c $(pkg-config --cflags --libs vaert)           # shared
#        cc app.c $(pkg-config --cflags --libs vaert-static)    # static, Swift runtime linked in
# or, with CMake (cmake -DCMAKE_PREFIX_PATH=PREFIX):
#        find_package(vaert 0.1 REQUIRED)
#        target_link_libraries(app PRIVATE vaert::vaert)        # or vaert::vaert_static
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(realpath -m "${1:-.build/vaert}")

swift build -c release --product vaert >&2
swift build -c release --product vaert-static >&2
bin=$(swift build -c release --show-bin-path)

mkdir -p "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/lib/cmake/vaert"
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
# What a static link needs besides libvaert.a: the Swift runtime, the C++ and system libraries, libjpeg.
static_libs="$swift_static/x86_64/swiftrt.o -L$swift_static -lswiftCore -lswift_Concurrency -lswift_StringProcessing -lswift_RegexParser -ldispatch -lBlocksRuntime -lstdc++ -ldl -lpthread -lm -ljpeg"
write_pc vaert "-L\${libdir} -lvaert -Wl,-rpath,\${libdir}"
write_pc vaert-static "\${libdir}/libvaert.a $static_libs"

# CMake: imported targets found from the prefix the files sit in, so the prefix can move.
cmake_dir="$prefix/lib/cmake/vaert"
cat > "$cmake_dir/vaertConfig.cmake.tmp" <<CMAKE
# vaert $version: find_package(vaert) gives the imported targets
#   vaert::vaert         the shared library (with a RUNPATH to it)
#   vaert::vaert_static  the static library, with the Swift runtime and libjpeg on its link line
get_filename_component(_vaert_prefix "\${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET vaert::vaert)
  add_library(vaert::vaert SHARED IMPORTED)
  set_target_properties(vaert::vaert PROPERTIES
    IMPORTED_LOCATION "\${_vaert_prefix}/lib/libvaert.so"
    INTERFACE_INCLUDE_DIRECTORIES "\${_vaert_prefix}/include"
    INTERFACE_LINK_OPTIONS "-Wl,-rpath,\${_vaert_prefix}/lib")
  add_library(vaert::vaert_static STATIC IMPORTED)
  set_target_properties(vaert::vaert_static PROPERTIES
    IMPORTED_LOCATION "\${_vaert_prefix}/lib/libvaert.a"
    INTERFACE_INCLUDE_DIRECTORIES "\${_vaert_prefix}/include"
    INTERFACE_LINK_LIBRARIES "$(echo $static_libs | tr ' ' ';')")
endif()
unset(_vaert_prefix)
CMAKE
mv "$cmake_dir/vaertConfig.cmake.tmp" "$cmake_dir/vaertConfig.cmake"
# 0.x releases are compatible within a minor version, later ones within a major version.
cat > "$cmake_dir/vaertConfigVersion.cmake.tmp" <<CMAKE
set(PACKAGE_VERSION "$version")
set(PACKAGE_VERSION_COMPATIBLE FALSE)
if(NOT PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION AND PACKAGE_FIND_VERSION_MAJOR STREQUAL "${version%%.*}"
   AND ("${version%%.*}" STRGREATER "0" OR PACKAGE_FIND_VERSION_MINOR STREQUAL "$(echo "$version" | cut -d. -f2)"))
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
  set(PACKAGE_VERSION_EXACT TRUE)
endif()
if(NOT CMAKE_SIZEOF_VOID_P STREQUAL "8")
  set(PACKAGE_VERSION "$version (64-bit)")
  set(PACKAGE_VERSION_UNSUITABLE TRUE)
endif()
CMAKE
mv "$cmake_dir/vaertConfigVersion.cmake.tmp" "$cmake_dir/vaertConfigVersion.cmake"
echo "libvaert $version in $prefix (export PKG_CONFIG_PATH=$prefix/lib/pkgconfig)"

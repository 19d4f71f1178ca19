#!/usr/bin/env bash
# Builds the device harness (tools/device/decode_device.c) for each board, bare metal, and runs it under
# QEMU on the zoo's microcontroller model (tools/models/fashion-micro-vae{,-int8}.vaert, decoder only,
# compiled in as `export-weights --c-array`): 16 samples of fixed seeds, decoded in flash-resident
# weights with a static workspace and no heap. Prints one line per board and model form:
#
#   cortex-m4 int8: ok, 16 images, 312345 instructions/image, 1.52 instructions/MAC, flash 171234 bytes, RAM 23456 bytes, ...
#
# and checks every run against the native libvaert on the same model: the same bits for int8 (the same
# integer math, and a sigmoid that fuses its multiply-adds as the AVX2 build's does; without an FPU,
# within 1e-6), within 1e-6 for f32. Each board also gets a damaged copy of the array (one byte of a
# weight flipped), which must be refused with its status and message and a non-zero exit.
#
#   tools/device/run.sh [--check-budgets] [BOARD...]
#
# Boards: cortex-m4 (mps2-an386, STM32F4-class limits), cortex-m7 (mps2-an500, STM32H7-class), rv32
# (virt, rv32imafc); cortex-m4-soft (no FPU, run only when named) measures soft float. Instructions are
# counted under -icount shift=0. RAM is .data + .bss (handle, workspace, output pixels, the error
# message arena) + the stack's high-water mark. With --check-budgets, exits 1 when a figure is past its
# line in tools/embedded-budgets.txt. Needs qemu-system-arm, qemu-system-misc and gcc-arm-none-eabi (for
# libgcc.a): tools/setup.sh installs them.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/modules.sh
tools=$(dirname "$(command -v swiftc)")
check_budgets=0 boards=()
for a in "$@"; do
    case $a in
        --check-budgets) check_budgets=1 ;;
        cortex-m4|cortex-m7|rv32|cortex-m4-soft) boards+=("$a") ;;
        *) echo "usage: tools/device/run.sh [--check-budgets] [cortex-m4|cortex-m7|rv32|cortex-m4-soft ...]" >&2; exit 2 ;;
    esac
done
[ ${#boards[@]} -gt 0 ] || boards=(cortex-m4 cortex-m7 rv32)
out=.build/device
mkdir -p "$out"

# What each board is built and run with.
libgcc_arm() { local f; f=$(ls /usr/lib/gcc/arm-none-eabi/*/thumb/"$1"/libgcc.a 2>/dev/null | head -1)
    [ -n "$f" ] || { echo "tools/device/run.sh: no libgcc.a for thumb/$1: install gcc-arm-none-eabi (tools/setup.sh)" >&2; exit 1; }
    echo "$f"; }
board_setup() {
    local semihosting="-semihosting-config enable=on,target=native"
    fused=1  # the FPU fuses multiply-adds, as the desktop's AVX2 kernels do (the int8 sigmoid then rounds alike)
    case $1 in
        cortex-m4|cortex-m7|cortex-m4-soft)
            startup="tools/device/cortex-m/startup.c tools/device/cortex-m/aeabi.c tools/device/stack.c"
            case $1 in
                cortex-m4) cflags="--target=thumbv7em-none-eabihf -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard"
                           libs=$(libgcc_arm v7e-m+fp/hard) script=cortex-m/cortex-m4.ld machine=mps2-an386 ;;
                cortex-m7) cflags="--target=thumbv7em-none-eabihf -mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard"
                           libs=$(libgcc_arm v7e-m+dp/hard) script=cortex-m/cortex-m7.ld machine=mps2-an500 ;;
                cortex-m4-soft) cflags="--target=thumbv7em-none-eabi -mcpu=cortex-m4 -mfloat-abi=soft"
                           libs=$(libgcc_arm v7e-m/nofp) script=cortex-m/cortex-m4.ld machine=mps2-an386 fused=0 ;;
            esac
            qemu="qemu-system-arm -M $machine -nographic -monitor none -serial none $semihosting" ;;
        rv32)
            startup="tools/device/riscv32/startup.c tools/device/riscv32/builtins.c tools/device/stack.c"
            cflags="--target=riscv32-unknown-elf -march=rv32imafc -mabi=ilp32f -mno-relax" libs="" script=riscv32/rv32.ld
            qemu="qemu-system-riscv32 -M virt -bios none -display none -monitor none -serial stdio" ;;
    esac
    cc="$tools/clang $cflags -ffreestanding -nostdlib -fno-stack-protector -fno-math-errno -O2 -I Include -I tools/device"
}

# swift_objects BOARD: the directory of the runtime's Embedded objects for BOARD, built when missing or
# older than the sources (cortex-m4 and rv32 share tools/build-embedded.sh's armv7em and riscv32 builds).
swift_objects() {
    local dir=$out/$1/swift
    case $1 in cortex-m4|rv32) dir=.build/embedded/$(embedded_triple "$1") ;; esac
    if [ ! -f "$dir/vaert.o" ] || [ -n "$(find Sources tools/modules.sh -newer "$dir/vaert.o" -name '*.swift' -o -newer "$dir/vaert.o" -name modules.sh | head -1)" ]; then
        mkdir -p .build/embedded/maps
        [ -f .build/embedded/maps/module.modulemap ] || tools/build-embedded.sh host >/dev/null
        rm -rf "$dir"; embedded_modules "$dir" "$1" >&2
    fi
    echo "$dir"
}

# The models, decoder only, as C arrays; the damaged one has a weight byte flipped (past the header and
# the tables, so the file still parses and only its CRC-32 tells).
export_weights=.build/release/export-weights
[ -x $export_weights ] || swift build -c release --product export-weights >&2
mkdir -p "$out/models"
for form in f32 int8; do
    model=tools/models/fashion-micro-vae.vaert options="--dtype f32"
    [ $form = int8 ] && model=tools/models/fashion-micro-vae-int8.vaert options="--dtype int8 --int8-everywhere"
    $export_weights convert $model --decoder-only $options --out "$out/models/$form.vaert" --c-array device_model >/dev/null
    mv "$out/models/device_model.c" "$out/models/$form.c"
done
python3 - "$out/models/int8.vaert" "$out/models/damaged.vaert" <<'EOF'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[len(data) // 2] ^= 0x40
open(sys.argv[2], "wb").write(data)
EOF
{
    echo '#include <stddef.h>'
    echo '_Alignas(64) const unsigned char device_model[] = {'
    od -An -v -tx1 "$out/models/damaged.vaert" | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
    echo '};'
    echo "const size_t device_model_size = $(stat -c %s "$out/models/damaged.vaert");"
} > "$out/models/damaged.c"

# Multiply-adds per decoded image: the decoder's dense layers, from export-weights inspect.
macs() {
    $export_weights inspect "$1" | awk '$2 == "decoder" && $3 == "dense" {
        split($4, a, "x"); split($6, b, "x"); n += a[1] * a[2] * a[3] * b[1] * b[2] * b[3] } END { print n }'
}

# The native reference: the harness as a desktop program on libvaert.so (tools/build-lib.sh).
[ -f .build/vaert/lib/libvaert.so ] || tools/build-lib.sh >/dev/null
native() {  # FORM FLAGS... -> stdout of the native harness
    local form=$1; shift
    local sizes; sizes=$(native_build "$form" -DDEVICE_SIZES | sed -n 's/^sizes //p')
    read -r handle workspace <<<"$sizes"
    native_build "$form" -DHANDLE_BYTES="$handle" -DWORKSPACE_BYTES="$workspace" "$@"
}
native_build() {
    local form=$1; shift
    cc -O2 -I Include "$@" tools/device/decode_device.c tools/device/host/board.c "$out/models/$form.c" \
        -L .build/vaert/lib -lvaert -Wl,-rpath,"$PWD/.build/vaert/lib" -o "$out/native-$form"
    "$out/native-$form"
}

# section_bytes ELF NAME...: the summed sizes of the named sections.
section_bytes() {
    local elf=$1 total=0 name size; shift
    while read -r name size; do
        [[ " $* " == *" $name "* ]] && total=$((total + 16#$size))
    done < <("$tools/llvm-objdump" -h "$elf" | awk '$1 ~ /^[0-9]+$/ {print $2, $3}')
    echo $total
}

# device BOARD FORM NAME FLAGS...: builds $out/BOARD/NAME.elf and runs it; stdout is the board's output,
# the exit status QEMU's.
device() {
    local board=$1 form=$2 name=$3; shift 3
    local dir=$out/$board objects
    objects=$(swift_objects "$board")
    mkdir -p "$dir"
    {
        $cc -DFREESTANDING_ARENA_BYTES=1024 -c tools/freestanding/support.c -o "$dir/support.o"
        for f in $startup; do $cc -c "$f" -o "$dir/$(basename "$f" .c).o"; done
        $cc "$@" -c tools/device/decode_device.c -o "$dir/$name.decode.o"
        $cc -c "$out/models/$form.c" -o "$dir/$form.model.o"
        "$tools/ld.lld" --gc-sections --no-relax -T "tools/device/$script" -L tools/device "$dir/$name.decode.o" "$dir/$form.model.o" \
            "$dir/support.o" $(for f in $startup; do echo "$dir/$(basename "$f" .c).o"; done) "$objects"/*.o $libs -o "$dir/$name.elf"
    } >&2
    timeout 600 $qemu -icount shift=0 -kernel "$dir/$name.elf" 2>&1
}

failed=0 results=()
fail() { echo "$1" >&2; failed=1; }
for board in "${boards[@]}"; do
    board_setup "$board"
    # The helpers written for the board, checked against the host's arithmetic first.
    case $board in
        rv32) cc -O2 tools/device/riscv32/builtins_test.c -o "$out/builtins_test" && "$out/builtins_test" >&2 || fail "rv32: the builtins are wrong" ;;
        cortex-m4-soft) cc -O2 tools/freestanding/soft_sqrtf_test.c -lm -o "$out/soft_sqrtf_test" && "$out/soft_sqrtf_test" >&2 || fail "soft_sqrtf is wrong" ;;
    esac
    for form in f32 int8; do
        label="$board $form"
        sizes=$(device "$board" $form sizes -DDEVICE_SIZES) || { fail "$label: the sizes run failed: $sizes"; continue; }
        read -r handle workspace <<<"$(sed -n 's/^sizes //p' <<<"$sizes")"
        exact="-DHANDLE_BYTES=$handle -DWORKSPACE_BYTES=$workspace"
        line=$(device "$board" $form $form $exact) || { fail "$label: $line"; continue; }
        [[ $line == ok,* ]] || { fail "$label: $line"; continue; }
        elf=$out/$board/$form.elf
        instructions=$(sed -n 's/.*instructions\/image \([0-9]*\).*/\1/p' <<<"$line")
        stack=$(sed -n 's/.*stack \([0-9]*\).*/\1/p' <<<"$line")
        flash=$(section_bytes "$elf" .text .ARM.exidx .data)
        ram=$(( $(section_bytes "$elf" .data .bss) + stack ))
        per_mac=$(awk -v i="$instructions" -v m="$(macs "$out/models/$form.vaert")" 'BEGIN { printf "%.2f", i / m }')
        # Against the native library, pixel by pixel: the same bits for int8, within 1e-6 for f32.
        device "$board" $form pixels $exact -DDEVICE_PRINT_PIXELS | grep -v '^ok' > "$out/$board/pixels.txt" || true
        native $form -DDEVICE_PRINT_PIXELS | grep -v '^ok' > "$out/native-pixels.txt"
        read -r unequal difference < <(python3 - "$out/$board/pixels.txt" "$out/native-pixels.txt" <<'EOF'
import struct, sys
rows = [[[struct.unpack(">f", bytes.fromhex(w))[0] for w in line.split()] for line in open(p)] for p in sys.argv[1:]]
pairs = [(x, y) for a, b in zip(*rows) for x, y in zip(a, b)]
assert len(rows[0]) == len(rows[1]) == 16 and len(pairs) == 16 * 784, "the pixel dumps differ in shape"
print(sum(x != y for x, y in pairs), "%.1e" % max(abs(x - y) for x, y in pairs))
EOF
)
        if [ $form = int8 ] && [ $fused = 1 ]; then
            [ "$unequal" = 0 ] || { fail "$label: $unequal of 12544 pixels differ from native's (by up to $difference); int8 must decode to the same bits"; continue; }
            agreement="the same bits as native"
        else
            awk -v d="$difference" 'BEGIN { exit !(d <= 1e-6) }' || { fail "$label: pixels differ from native by up to $difference (limit 1e-6)"; continue; }
            agreement="within $difference of native"
        fi
        echo "$label: ok, 16 images, $instructions instructions/image, $per_mac instructions/MAC, flash $flash bytes, RAM $ram bytes ($agreement; handle $handle, workspace $workspace, stack $stack)"
        results+=("$board $form $flash $ram $instructions")
    done
    # A damaged array: refused, with its status and message, and a non-zero exit.
    if refusal=$(device "$board" damaged damaged $exact); then
        fail "$board damaged: exit 0: $refusal"
    elif [[ $refusal == device:\ model:* ]]; then
        echo "$board damaged model: refused, exit non-zero: ${refusal#device: }"
    else
        fail "$board damaged: $refusal"
    fi
done

if [ $check_budgets -eq 1 ]; then
    for result in "${results[@]}"; do
        read -r board form flash ram instructions <<<"$result"
        read -r max_flash max_ram max_instructions <<<"$(awk -v b="$board" -v f="$form" '$1 == "device" && $2 == b && $3 == f { print $4, $5, $6 }' tools/embedded-budgets.txt)"
        if [ -z "$max_instructions" ]; then
            fail "no budget for $board $form in tools/embedded-budgets.txt"
        elif [ "$flash" -gt "$max_flash" ] || [ "$ram" -gt "$max_ram" ] || [ "$instructions" -gt "$max_instructions" ]; then
            fail "over budget: $board $form flash $flash (budget $max_flash), RAM $ram ($max_ram), instructions/image $instructions ($max_instructions)"
        fi
    done
    [ $failed -eq 0 ] && echo "device figures within budget (tools/embedded-budgets.txt)"
fi
exit $failed

"""Validation time against file size: the loader must stay linear in the file (issue 7).

    python3 tools/bench/validation-scaling.py [MODEL]

Grows a valid weights file (the ready model by default) three ways: more metadata entries and more
tensors (up to the format's 4096 each), and a larger data section. Each file is checked by `export-weights verify`
(CRC, every table rule, the network, a decode of 8 images); the script prints the best of three wall
times and the time per MB. Linear validation shows as a flat time per MB once the fixed cost (process
start, decode) is amortised.
Written from Sources/VAECore/WEIGHTS_FORMAT.md; needs only the Python standard library."""
import os, struct, subprocess, sys, tempfile, time, zlib

HEADER, RECORD, ALIGN = 96, 64, 64

def align(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN

def grow(data, metadata_entries=0, tensors=0, data_bytes=0):
    """The file `data` with extra metadata entries, extra 64-byte f32 tensors and extra data bytes."""
    n_layers, n_tensors, n_meta = struct.unpack_from("<III", data, 32)
    meta_off, meta_size, data_off = struct.unpack_from("<QQQ", data, 64)
    layer_table = data[HEADER:HEADER + RECORD * n_layers]
    tensor_table = bytearray(data[HEADER + RECORD * n_layers:meta_off])
    metadata = bytearray(data[meta_off:meta_off + meta_size])
    payload = bytearray(data[data_off:])
    for i in range(metadata_entries):
        key = b"bench.key.%08d" % i
        metadata += struct.pack("<I", len(key)) + key + struct.pack("<II", 1, i)
    for i in range(tensors):
        offset = len(payload)
        payload += bytes(64)
        name = (b"pad.%d" % i).ljust(24, b"\0")
        tensor_table += name + struct.pack("<II4IQQ", 0, 1, 16, 0, 0, 0, offset, 64)
    if data_bytes:
        offset = len(payload)
        payload += bytes(align(data_bytes))
        name = b"pad.big".ljust(24, b"\0")
        tensor_table += name + struct.pack("<II4IQQ", 0, 1, align(data_bytes) // 4, 0, 0, 0, offset, align(data_bytes))
    n_tensors += tensors + (1 if data_bytes else 0)
    n_meta += metadata_entries
    tensor_off = HEADER + RECORD * n_layers
    meta_off = tensor_off + RECORD * n_tensors
    data_off = align(meta_off + len(metadata))
    size = data_off + len(payload)
    out = bytearray(data[:8]) + struct.pack("<IIQIIIIII", 1, HEADER, size, 0, 0, n_layers, n_tensors, n_meta, 0)
    out += struct.pack("<QQQQQQ", HEADER, tensor_off, meta_off, len(metadata), data_off, len(payload))
    out += layer_table + tensor_table + metadata
    out += bytes(data_off - len(out)) + payload
    struct.pack_into("<I", out, 24, zlib.crc32(bytes(out[:24]) + b"\0\0\0\0" + bytes(out[28:])))
    return bytes(out)

def best_time(tool, path):
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([tool, "verify", path], check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best

def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    model = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tools/models/fashion-vae.vaert")
    tool = os.path.join(root, ".build/release/export-weights")
    base = open(model, "rb").read()
    cases = [("the model", {})]
    cases += [(f"+{n:,} metadata entries", {"metadata_entries": n}) for n in (400, 4_000)]
    cases += [(f"+{n:,} tensors", {"tensors": n}) for n in (400, 4_000)]
    cases += [(f"+{n >> 20} MB of data", {"data_bytes": n}) for n in (16 << 20, 128 << 20, 512 << 20)]
    print(f"{'file':<28} {'size MB':>9} {'verify s':>9} {'ms per MB':>10}")
    with tempfile.TemporaryDirectory() as folder:
        for label, change in cases:
            path = os.path.join(folder, "grown.vaert")
            grown = grow(base, **change)
            open(path, "wb").write(grown)
            seconds = best_time(tool, path)
            mb = len(grown) / 2**20
            print(f"{label:<28} {mb:9.1f} {seconds:9.3f} {1000 * seconds / mb:10.2f}")

if __name__ == "__main__":
    main()

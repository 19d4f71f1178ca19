"""A reader of vaert weights files (format version 1) written from Sources/VAECore/WEIGHTS_FORMAT.md alone,
for the benchmark scripts: layers, tensors (f32, f16 and int8 decoded to float32) and metadata."""
import struct, zlib
import numpy as np

KINDS = {1: "dense", 2: "conv2d", 3: "conv_transpose2d"}
ACTIVATIONS = {0: "identity", 1: "relu", 2: "sigmoid"}

def read(path):
    data = open(path, "rb").read()
    assert data[:8] == b"VAERT\r\n\x1a", "not a vaert file"
    version, header_size, file_size, crc, flags, n_layers, n_tensors, n_meta, _ = struct.unpack_from("<IIQIIIIII", data, 8)
    assert version == 1 and header_size == 96 and file_size == len(data)
    assert zlib.crc32(data[:24] + b"\0\0\0\0" + data[28:]) == crc, "CRC mismatch"
    layer_off, tensor_off, meta_off, meta_size, data_off, data_size = struct.unpack_from("<QQQQQQ", data, 48)
    tensors = []
    for t in range(n_tensors):
        o = tensor_off + 64 * t
        name = data[o:o + 24].split(b"\0")[0].decode()
        dtype, rank = struct.unpack_from("<II", data, o + 24)
        dims = list(struct.unpack_from("<4I", data, o + 32))[:rank]
        offset, size = struct.unpack_from("<QQ", data, o + 48)
        raw = data[data_off + offset: data_off + offset + size]
        n = int(np.prod(dims))
        if dtype == 0: values = np.frombuffer(raw, "<f4", n)
        elif dtype == 1: values = np.frombuffer(raw, "<f2", n).astype(np.float32)
        elif dtype == 4:
            q, scales = panels(raw, *dims)
            values = q.astype(np.float32) * scales
        else:
            axis = 0 if dtype == 2 else 1
            scales = np.frombuffer(raw, "<f4", dims[axis])
            q = np.frombuffer(raw, np.int8, n, 4 * dims[axis]).astype(np.float32).reshape(dims)
            shape = [1] * len(dims); shape[axis] = dims[axis]
            values = q * scales.reshape(shape)
        tensors.append((name, np.asarray(values, np.float32).reshape(dims), (q, scales) if dtype == 4 else None))
    layers = []
    for l in range(n_layers):
        o = layer_off + 64 * l
        kind, stack, act, w, b = struct.unpack_from("<5I", data, o)
        inp = struct.unpack_from("<3I", data, o + 20); out = struct.unpack_from("<3I", data, o + 32)
        params = struct.unpack_from("<5I", data, o + 44)
        layers.append(dict(kind=KINDS[kind], stack="encoder" if stack == 0 else "decoder", activation=ACTIVATIONS[act],
                           weight=tensors[w][1], int8=tensors[w][2], bias=None if b == 0xFFFFFFFF else tensors[b][1], input=inp, output=out, params=params))
    return layers

def panels(raw, k, n):
    """An int8 panel tensor [k, n] (type 4: scales, then panels of 8 columns x groups of 4 rows) as q [k, n] and scales [n]."""
    scales = np.frombuffer(raw, "<f4", n)
    start = -(-4 * n // 64) * 64
    groups, count = -(-k // 4), -(-n // 8)
    q = np.frombuffer(raw, np.int8, count * groups * 32, start).reshape(count, groups, 8, 4)
    return q.transpose(1, 3, 0, 2).reshape(groups * 4, count * 8)[:k, :n], scales

def flop(layers, stack):
    """Multiply-adds of the "encoder" or "decoder" per image, 2 FLOP each."""
    total = 0
    for l in layers:
        if l["stack"] != stack: continue
        w = l["weight"]
        if l["kind"] == "dense": total += w.size
        elif l["kind"] == "conv2d": total += w.size * l["output"][1] * l["output"][2]
        else: total += w.size * l["input"][1] * l["input"][2]
    return 2 * total

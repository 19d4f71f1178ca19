"""The IDX files of a Fashion-MNIST-style folder (gzipped), read for the peer scripts."""
import gzip
import numpy as np

FOLDER = "/usr/share/datasets/fashion-mnist"

def idx(path):
    """The array an IDX file holds (unsigned bytes), shaped by its header."""
    with gzip.open(path, "rb") as f:
        b = f.read()
    nd = b[3]; dims = [int.from_bytes(b[4+4*i:8+4*i], "big") for i in range(nd)]
    return np.frombuffer(b, np.uint8, offset=4+4*nd).reshape(dims)

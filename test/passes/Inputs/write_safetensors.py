"""Writes a .safetensors file whose tensors are given on the command line as
NAME:DTYPE:SHAPE:FILL, e.g. `w.lota_B:I8:32x8:1` (every element FILL; FILL
`nan` or `inf` for F32), or NAME:DTYPE:SHAPE:random (seeded). Used by the
merge tests to play a trained checkpoint of a chosen layout."""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "I8": np.int8}


def main():
    path, specs = sys.argv[1], sys.argv[2:]
    rng = np.random.default_rng(0)
    header, blobs, offset = {}, [], 0
    for spec in specs:
        name, dtype, shape, fill = spec.split(":")
        dims = [int(d) for d in shape.split("x")]
        if fill == "random":
            values = (rng.integers(-1, 2, dims) if dtype == "I8"
                      else rng.standard_normal(dims)).astype(DTYPES[dtype])
        else:
            values = np.full(dims, float(fill)).astype(DTYPES[dtype])
        data = values.tobytes()
        header[name] = {"dtype": dtype, "shape": dims,
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


if __name__ == "__main__":
    main()

"""Prints an .mlir file followed by random resource blobs for every
`dense_resource<NAME> : tensor<AxBx...xf32|ui8>` its code (not its comments)
mentions, so weight values need not be stored in the test: f32 uniform in
[-1, 1], ui8 uniform bytes."""
import random
import re
import struct
import sys



def resources(chunk):
    """The resource section for the blobs one chunk's code names."""
    code = "\n".join(line for line in chunk.splitlines()
                     if not line.lstrip().startswith("//"))
    blobs = {}
    for name, dims, element in re.findall(
            r"dense_resource<([\w.]+)> : tensor<([\dx]+)x(f32|ui8)>", code):
        if name in blobs:
            continue
        count = 1
        for dim in dims.split("x"):
            count *= int(dim)
        if element == "f32":
            data = b"".join(struct.pack("<f", random.uniform(-1, 1))
                            for _ in range(count))
            alignment = "04000000"
        else:
            data = bytes(random.randrange(256) for _ in range(count))
            alignment = "01000000"
        blobs[name] = '      "%s": "0x%s%s"' % (name, alignment, data.hex().upper())
    if not blobs:
        return ""
    return ("\n{-#\n  dialect_resources: {\n    builtin: {\n" + ",\n".join(blobs.values())
            + "\n    }\n  }\n#-}\n")


# Each --split-input-file chunk is its own module and needs its own section.
random.seed(0)
chunks = open(sys.argv[1]).read().split("\n// -----\n")
sys.stdout.write("\n// -----\n".join(chunk + resources(chunk) for chunk in chunks))

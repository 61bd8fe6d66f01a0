"""Prints an .mlir file followed by random f32 resource blobs for every
`dense_resource<NAME> : tensor<AxBx...xf32>` its code (not its comments)
mentions, so weight values need not be stored in the test."""
import random
import re
import struct
import sys

text = open(sys.argv[1]).read()
random.seed(0)
blobs = {}
code = "\n".join(line for line in text.splitlines()
                 if not line.lstrip().startswith("//"))
for name, dims in re.findall(r"dense_resource<([\w.]+)> : tensor<([\dx]+)xf32>", code):
    if name in blobs:
        continue
    count = 1
    for dim in dims.split("x"):
        count *= int(dim)
    data = b"".join(struct.pack("<f", random.uniform(-1, 1)) for _ in range(count))
    blobs[name] = '      "%s": "0x04000000%s"' % (name, data.hex().upper())
sys.stdout.write(text)
sys.stdout.write("\n{-#\n  dialect_resources: {\n    builtin: {\n" + ",\n".join(blobs.values())
                 + "\n    }\n  }\n#-}\n")

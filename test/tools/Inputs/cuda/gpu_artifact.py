#!/usr/bin/env python3
"""Builds the cuda artifact of fake-cuda-model.c with real kernels.

  gpu_artifact.py OUT --cc CC --ptxas PTXAS --inputs DIR
                  (--arch sm_XY | --qaf-run QAF_RUN)

assembles kernels.ptx with ptxas for the architecture (with --qaf-run, the
one `qaf-run info --device cuda:0` reports), embeds the cubin in model.so
(compiled from fake-cuda-model.c), and writes the manifest (the fake one
with that architecture) and the tensor files (make_tensors.py) into OUT.
Prints the architecture.
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def device_arch(qaf_run):
    info = subprocess.run([qaf_run, "info", "--device", "cuda:0"],
                          check=True, capture_output=True, text=True).stdout
    match = re.search(r"compute capability (\d+)\.(\d+)", info)
    if not match:
        sys.exit("no compute capability in: " + info)
    return "sm_" + match.group(1) + match.group(2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--cc", required=True)
    parser.add_argument("--ptxas", required=True)
    parser.add_argument("--arch")
    parser.add_argument("--qaf-run")
    args = parser.parse_args()
    arch = args.arch or device_arch(args.qaf_run)
    os.makedirs(args.out, exist_ok=True)
    cubin = os.path.join(args.out, "kernels.cubin")
    subprocess.run([args.ptxas, "-arch=" + arch,
                    os.path.join(HERE, "kernels.ptx"), "-o", cubin],
                   check=True)
    data = open(cubin, "rb").read()
    header = os.path.join(args.out, "gpu-binary.h")
    with open(header, "w") as f:
        f.write("static const char kBinary[] = {")
        f.write(",".join(str(b if b < 128 else b - 256) for b in data))
        f.write("};\n")
    subprocess.run([args.cc, "-shared", "-fPIC", "-o",
                    os.path.join(args.out, "model.so"),
                    '-DQAF_TEST_GPU_BINARY="' + header + '"',
                    os.path.join(HERE, "fake-cuda-model.c")], check=True)
    manifest = json.load(open(os.path.join(HERE, "fake-cuda-artifact",
                                           "manifest.json")))
    manifest["target"]["arch"] = arch
    manifest["target"]["features"] = "+ptx70"
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    make_tensors = os.path.join(HERE, "..", "make_tensors.py")
    for kind in ("weights", "parameters"):
        subprocess.run([sys.executable, make_tensors, kind,
                        os.path.join(args.out, kind + ".safetensors")],
                       check=True)
    print(arch)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Configuring qaf with GCC stops at configure time, saying why.

The CPU kernels need LLVM's OpenMP runtime; with GCC the build used to
configure, then fail at link and test time (no libomp found,
SgemmLink.IntoSharedObjectWithTheCDriver). The top-level CMakeLists.txt
refuses a non-Clang compiler: this test configures a scratch build folder
with gcc/g++ and requires that CMake fails with that message. The scratch
folder is removed at the end.
"""
import argparse
import subprocess
import sys
import tempfile

EXPECTED = "qaf needs Clang as the C compiler, found GNU"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cmake", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--cc", required=True)
    parser.add_argument("--cxx", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qaf-configure-gcc-") as build:
        result = subprocess.run(
            [args.cmake, "-S", args.source, "-B", build,
             f"-DCMAKE_C_COMPILER={args.cc}", f"-DCMAKE_CXX_COMPILER={args.cxx}"],
            capture_output=True, text=True, timeout=240)
    output = result.stdout + result.stderr
    if result.returncode != 0 and EXPECTED in output:
        print(f"ok   configuring with {args.cc} fails with: {EXPECTED} ...")
        return 0
    print(f"FAIL configuring with {args.cc}/{args.cxx} exited "
          f"{result.returncode} without '{EXPECTED}':\n{output[-3000:]}")
    return 1


if __name__ == "__main__":
    sys.exit(main())

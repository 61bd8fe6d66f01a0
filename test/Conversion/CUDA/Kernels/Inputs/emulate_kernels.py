#!/usr/bin/env python3
"""Runs the kernels qaf-cuda-kernels generates on the CPU and checks them
against numpy, for machines without a GPU.

The instantiated kernels (the same gpu.funcs that go down to PTX) are turned
into CPU functions by replacing only the GPU's execution model: thread and
block ids, gpu.barrier, nvvm.mma.sync and gpu.shuffle become calls of
warp_emulator.c, where the threads of a block are host threads and the mma
is modelled from the PTX ISA's fragment tables. Everything else (tiling,
guards, fragment placement, unpacking and dequantizing codes, the decode
kernel's reduction) runs as generated. Each case compares with numpy on
operands rounded as the tensor cores read them (tf32 or bf16).
"""

import argparse
import ctypes
import os
import re
import subprocess
import sys
import tempfile
import threading

import numpy as np

THREADS = 128
TILE = 64

# One op of each kind, on fully dynamic buffers: the kernels do not depend
# on the host shapes.
HOST = """
func.func @ops(%a: memref<?x?xf32>, %b: memref<?x?xf32>, %c: memref<?x?xf32>,
               %x: memref<?x128xf32>, %s: memref<8x4xf32>, %z: memref<8x4xf32>,
               %q: memref<8x64xi8>, %m: memref<8x128xi8>, %y: memref<?x8xf32>,
               %g: memref<?x8xf32>, %dx: memref<?x128xf32>) {
  linalg.matmul ins(%a, %b : memref<?x?xf32>, memref<?x?xf32>)
                outs(%c : memref<?x?xf32>)
  qaf.kernel.qlinear bits(4) group_size(32) input(%x : memref<?x128xf32>)
    scales(%s : memref<8x4xf32>) zero_points(%z : memref<8x4xf32>)
    codes(%q : memref<8x64xi8>) outs(%y : memref<?x8xf32>)
  qaf.kernel.qlinear bits(4) group_size(32) input(%g : memref<?x8xf32>)
    scales(%s : memref<8x4xf32>) zero_points(%z : memref<8x4xf32>)
    moves(%m : memref<8x128xi8>) codes(%q : memref<8x64xi8>)
    outs(%dx : memref<?x128xf32>) transpose_weight
  return
}
"""

EMULATOR_DECLS = """
  func.func private @emu_thread_id() -> index
  func.func private @emu_block_id_x() -> index
  func.func private @emu_block_id_y() -> index
  func.func private @emu_block_id_z() -> index
  func.func private @emu_barrier()
  func.func private @emu_tf32(f32) -> i32
  func.func private @emu_shuffle_xor(f32, i32) -> f32
  func.func private @emu_mma_tf32(i64, i32, i32, i32, i32, i32, i32, f32, f32, f32, f32) -> f32
  func.func private @emu_mma_bf16(i64, i32, i32, i32, i32, i32, i32, f32, f32, f32, f32) -> f32
"""


def kernels_module_body(text):
    """The lines inside gpu.module @qaf_cuda_kernels."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.lstrip().startswith("gpu.module @qaf_cuda_kernels"))
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = next(i for i in range(start + 1, len(lines))
               if lines[i] == " " * indent + "}")
    return lines[start + 1:end]


def to_cpu(lines):
    """The kernels as func.funcs calling the emulator."""
    out = []
    mmas = {}
    counter = [0]
    for line in lines:
        line = re.sub(r", #gpu\.address_space<(workgroup|private)>", "", line)
        header = re.match(r"(\s*)gpu\.func (@\w+)\((.*?)\)"
                          r"(?: workgroup\((.*?)\))?(?: private\((.*?)\))? kernel \{$",
                          line)
        if header:
            indent, name, args, workgroup, private = header.groups()
            params = [args] + ([workgroup.replace(" : ", ": ")] if workgroup else [])
            out.append(f"{indent}func.func {name}({', '.join(params)}) {{")
            for buffer in re.findall(r"(%\w+) : (memref<[^>]*>)", private or ""):
                out.append(f"{indent}  {buffer[0]} = memref.alloca() : {buffer[1]}")
            continue
        line = re.sub(r"gpu\.return", "return", line)
        line = re.sub(r"(%\w+) = gpu\.thread_id\s+x",
                      r"\1 = func.call @emu_thread_id() : () -> index", line)
        line = re.sub(r"(%\w+) = gpu\.block_id\s+([xyz])",
                      r"\1 = func.call @emu_block_id_\2() : () -> index", line)
        line = re.sub(r"gpu\.barrier", "func.call @emu_barrier() : () -> ()", line)
        line = re.sub(r"(%\w+) = nvvm\.convert\.float\.to\.tf32 (%\w+) \{.*\}",
                      r"\1 = func.call @emu_tf32(\2) : (f32) -> i32", line)
        line = re.sub(r"(%\w+), %\w+ = gpu\.shuffle\s+xor (%\w+), (%\w+), %\w+ : f32",
                      r"\1 = func.call @emu_shuffle_xor(\2, \3) : (f32, i32) -> f32",
                      line)
        mma = re.match(r"\s*(%\w+) = nvvm\.mma\.sync A\[(.*?)\]\s+B\[(.*?)\]\s+C\[(.*?)\]"
                       r"\s+\{.*multiplicandAPtxType = #nvvm\.mma_type<(\w+)>", line)
        if mma:
            result, a, b, c, precision = mma.groups()
            mmas[result] = (a, b, c, precision)
            continue
        extract = re.match(r"(\s*)(%\w+) = llvm\.extractvalue (%\w+)\[(\d)\]", line)
        if extract and extract.group(3) in mmas:
            indent, result, source, element = extract.groups()
            a, b, c, precision = mmas[source]
            counter[0] += 1
            e = f"%emu_e{counter[0]}"
            out.append(f"{indent}{e} = arith.constant {element} : i64")
            out.append(f"{indent}{result} = func.call @emu_mma_{precision}({e}, {a}, {b}, {c})"
                       " : (i64, i32, i32, i32, i32, i32, i32, f32, f32, f32, f32) -> f32")
            continue
        if re.search(r"\b(gpu|nvvm|llvm)\.", line):
            raise SystemExit(f"emulate_kernels.py: no CPU form for: {line.strip()}")
        out.append(line)
    return "module {\n" + EMULATOR_DECLS + "\n".join(out) + "\n}\n"


def build(args, precision, workdir):
    run = lambda cmd, **kw: subprocess.run(cmd, check=True, capture_output=True,
                                           text=True, **kw).stdout
    host = os.path.join(workdir, "host.mlir")
    with open(host, "w") as f:
        f.write(HOST)
    kernels = run([args.qaf_opt, host, f"-qaf-cuda-kernels=precision={precision}"])
    cpu = os.path.join(workdir, f"cpu_{precision}.mlir")
    with open(cpu, "w") as f:
        f.write(to_cpu(kernels_module_body(kernels)))
    lowered = run([args.qaf_opt, cpu, "--arith-expand=include-bf16=true", "--convert-scf-to-cf",
                   "--convert-vector-to-llvm", "--finalize-memref-to-llvm",
                   "--convert-arith-to-llvm", "--convert-index-to-llvm",
                   "--convert-func-to-llvm", "--convert-cf-to-llvm",
                   "--reconcile-unrealized-casts"])
    ir = os.path.join(workdir, f"kernels_{precision}.ll")
    with open(ir, "w") as f:
        f.write(run([args.mlir_translate, "--mlir-to-llvmir"], input=lowered))
    library = os.path.join(workdir, f"libkernels_{precision}.so")
    run([args.cc, "-shared", "-fPIC", "-O1", "-Wno-override-module", ir,
         args.emulator, "-o", library, "-lpthread"])
    lib = ctypes.CDLL(library)
    lib.emu_init()
    return lib


class View:
    """A strided view as a kernel argument (memref descriptor, expanded)."""

    def __init__(self, array, sizes, strides, offset=0):
        self.array, self.sizes, self.strides, self.offset = array, sizes, strides, offset

    def args(self):
        pointer = ctypes.c_void_p(self.array.ctypes.data)
        return [pointer, pointer, ctypes.c_int64(self.offset)] + \
            [ctypes.c_int64(v) for v in list(self.sizes) + list(self.strides)]


def contiguous(array):
    strides = [s // array.itemsize for s in array.strides]
    return View(array, array.shape, strides)


def rows3(array):
    """A 2-D array as the [1, rows, cols] view the host passes."""
    return View(array, (1,) + array.shape, (0,) + tuple(s // array.itemsize
                                                        for s in array.strides))


def launch(lib, name, grid, views, scalars=(), shared=True):
    function = getattr(lib, name)
    function.restype = None
    base = [a for v in views for a in v.args()] + [ctypes.c_int64(s) for s in scalars]
    for bz in range(grid[2]):
        for by in range(grid[1]):
            for bx in range(grid[0]):
                tiles = [np.zeros((64, 20), np.float32), np.zeros((16, 72), np.float32)] \
                    if shared else []
                call = base + [a for t in tiles for a in contiguous(t).args()]

                def thread(t, bx=bx, by=by, bz=bz, call=call):
                    lib.emu_set_ids(ctypes.c_int64(t), ctypes.c_int64(bx),
                                    ctypes.c_int64(by), ctypes.c_int64(bz))
                    function(*call)

                threads = [threading.Thread(target=thread, args=(t,)) for t in range(THREADS)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()


def round_as(values, precision):
    """f32 values as the tensor core reads them."""
    bits = np.ascontiguousarray(values, np.float32).view(np.uint32).astype(np.uint64)
    if precision == "tf32":
        bits = (bits + 0x1000) & 0xFFFFE000
    elif precision == "bf16":
        bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.astype(np.uint32).view(np.float32).astype(np.float64)


def check(name, got, expected, scale, failures):
    error = np.abs(got.astype(np.float64) - expected)
    bound = 1e-5 * scale + 1e-6
    worst = float(np.max(error / bound)) if error.size else 0.0
    status = "ok" if worst <= 1.0 else "FAILED"
    print(f"{status}: {name}: max error {float(np.max(error)) if error.size else 0:.3g}"
          f" ({worst:.2f} of the bound)")
    if worst > 1.0:
        failures.append(name)


def ceil_div(a, b):
    return -(-a // b)


def check_matmul(lib, precision, rng, failures):
    # Ragged M, N and K; B stored transposed (read through swapped strides,
    # its column stride is not 1) and a batch of 2.
    batch, m, n, k = 2, 70, 72, 40
    a = rng.standard_normal((batch, m, k)).astype(np.float32)
    b_stored = rng.standard_normal((batch, n, k)).astype(np.float32)
    c = rng.standard_normal((batch, m, n)).astype(np.float32)
    b_view = View(b_stored, (batch, k, n), (n * k, 1, k))
    expected = c.astype(np.float64) + np.einsum(
        "bmk,bnk->bmn", round_as(a, precision), round_as(b_stored, precision))
    scale = np.abs(c) + np.einsum("bmk,bnk->bmn", np.abs(a), np.abs(b_stored))
    launch(lib, f"qaf_matmul_{precision}", (ceil_div(n, TILE), ceil_div(m, TILE), batch),
           [contiguous(a), b_view, contiguous(c)])
    check(f"matmul {precision} [2x70x40]·[2x40x72]ᵀ", c, expected, scale, failures)

    # A stored transposed [K, M] with a broadcast (stride 0) batch of 1.
    m, n, k = 33, 20, 17
    a_stored = rng.standard_normal((k, m)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    c = rng.standard_normal((m, n)).astype(np.float32)
    expected = c + round_as(a_stored, precision).T @ round_as(b, precision)
    scale = np.abs(c) + np.abs(a_stored).T @ np.abs(b)
    launch(lib, f"qaf_matmul_{precision}", (1, 1, 1),
           [View(a_stored, (1, m, k), (0, 1, m)), rows3(b), rows3(c)])
    check(f"matmul {precision} [17x33]ᵀ·[17x20]", c, expected, scale, failures)


def pack_codes(codes, bits):
    """Rows of codes as bit streams, the first code in the lowest bits."""
    n, k = codes.shape
    out = np.zeros((n, k * bits // 8), np.uint8)
    for row in range(n):
        stream = 0
        for i in range(k):
            stream |= int(codes[row, i]) << (i * bits)
        out[row] = np.frombuffer(stream.to_bytes(k * bits // 8, "little"), np.uint8)
    return out.view(np.int8)


def quantized_layer(rng, n, k, bits, group, with_moves):
    codes = rng.integers(0, 2 ** bits, (n, k))
    moves = rng.integers(-1, 2, (n, k)) if with_moves else np.zeros((n, k), np.int64)
    scales = rng.uniform(0.01, 0.1, (n, k // group)).astype(np.float32)
    zeros = rng.uniform(0, 2 ** bits - 1, (n, k // group)).astype(np.float32)
    # w = s·((q + move) − z) in f32, as qaf.kernel.qlinear defines it.
    q = (codes + moves).astype(np.float32)
    w = (q - np.repeat(zeros, group, axis=1)) * np.repeat(scales, group, axis=1)
    views = [contiguous(scales), contiguous(zeros), contiguous(pack_codes(codes, bits)),
             contiguous(moves.astype(np.int8) if with_moves else pack_codes(codes, bits))]
    return w.astype(np.float32), views


def check_qlinear(lib, precision, rng, failures):
    cases = [(2, 32, False), (3, 32, False), (4, 32, True), (8, 4, False)]
    for bits, group, with_moves in cases:
        # Tensor cores: M >= 16, ragged M and N; y += x · wᵀ.
        m, n, k = 20, 72, 128 if group != 4 else 12
        w, views = quantized_layer(rng, n, k, bits, group, with_moves)
        x = rng.standard_normal((m, k)).astype(np.float32)
        y = rng.standard_normal((m, n)).astype(np.float32)
        expected = y + round_as(x, precision) @ round_as(w, precision).T
        scale = np.abs(y) + np.abs(x) @ np.abs(w).T
        launch(lib, f"qaf_qlinear_{precision}", (ceil_div(n, TILE), ceil_div(m, TILE), 1),
               [rows3(x)] + views + [rows3(y)], (bits, group, int(with_moves)))
        check(f"qlinear {precision} {bits}-bit g{group} M={m} N={n} K={k}"
              f"{' moves' if with_moves else ''}", y, expected, scale, failures)

        # Decode (M < 16), f32 arithmetic: N not a multiple of the 4 rows
        # of a block, K not a multiple of the 32 lanes' 8-code units.
        m, n = 3, 10
        k = 200 if group != 4 else 12
        group_decode = 40 if group != 4 else 4
        w, views = quantized_layer(rng, n, k, bits, group_decode, with_moves)
        x = rng.standard_normal((m, k)).astype(np.float32)
        y = rng.standard_normal((m, n)).astype(np.float32)
        expected = y + x.astype(np.float64) @ w.astype(np.float64).T
        scale = np.abs(y) + np.abs(x) @ np.abs(w).T
        launch(lib, "qaf_qlinear_decode", (ceil_div(n, 4), 1, 1),
               [rows3(x)] + views + [rows3(y)], (bits, group_decode, int(with_moves)),
               shared=False)
        check(f"qlinear decode {bits}-bit g{group_decode} M={m} N={n} K={k}"
              f"{' moves' if with_moves else ''}", y, expected, scale, failures)

        # The input gradient: y [M, K] += g [M, N] · w, ragged N (the
        # reduction) and K.
        m, n, k = 18, 40, 96 if group != 4 else 12
        w, views = quantized_layer(rng, n, k, bits, group, with_moves)
        g = rng.standard_normal((m, n)).astype(np.float32)
        y = rng.standard_normal((m, k)).astype(np.float32)
        expected = y + round_as(g, precision) @ round_as(w, precision)
        scale = np.abs(y) + np.abs(g) @ np.abs(w)
        launch(lib, f"qaf_qlinear_transposed_{precision}",
               (ceil_div(k, TILE), ceil_div(m, TILE), 1),
               [rows3(g)] + views + [rows3(y)], (bits, group, int(with_moves)))
        check(f"qlinear transposed {precision} {bits}-bit g{group} M={m} N={n} K={k}"
              f"{' moves' if with_moves else ''}", y, expected, scale, failures)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--qaf-opt", required=True)
    parser.add_argument("--mlir-translate", required=True)
    parser.add_argument("--cc", required=True)
    parser.add_argument("--emulator", required=True, help="warp_emulator.c")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    failures = []
    with tempfile.TemporaryDirectory() as workdir:
        for precision in ("tf32", "bf16"):
            lib = build(args, precision, workdir)
            check_matmul(lib, precision, rng, failures)
            check_qlinear(lib, precision, rng, failures)
    if failures:
        print(f"{len(failures)} case(s) failed")
        return 1
    print("all cases passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

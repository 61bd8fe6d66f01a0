#!/usr/bin/env python3
"""Runs the kernels qaf-cuda-kernels generates on the CPU and checks them
against numpy, for machines without a GPU.

The instantiated kernels (the same gpu.funcs that go down to PTX) are turned
into CPU functions by replacing only the GPU's execution model: thread and
block ids, gpu.barrier, nvvm.mma.sync and gpu.shuffle become calls of
warp_emulator.c, where the threads of a block are host threads and the mma
is modelled from the PTX ISA's fragment tables. Everything else (tiling,
guards, fragment placement, unpacking and dequantizing codes, the decode
kernel's reduction, the attention kernel's online softmax) runs as
generated. Each case compares with numpy on operands rounded as the tensor
cores read them (tf32 or bf16; the attention kernel computes in f32).
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
               %g: memref<?x8xf32>, %dx: memref<?x128xf32>,
               %aq: memref<?x?x?x16xf32>, %ak: memref<?x?x?x16xf32>,
               %av: memref<?x?x?x16xf32>, %ab: memref<?x?x?x?xf32>,
               %ao: memref<?x?x?x16xf32>) {
  linalg.matmul ins(%a, %b : memref<?x?xf32>, memref<?x?xf32>)
                outs(%c : memref<?x?xf32>)
  qaf.kernel.qlinear bits(4) group_size(32) input(%x : memref<?x128xf32>)
    scales(%s : memref<8x4xf32>) zero_points(%z : memref<8x4xf32>)
    codes(%q : memref<8x64xi8>) outs(%y : memref<?x8xf32>)
  qaf.kernel.qlinear bits(4) group_size(32) input(%g : memref<?x8xf32>)
    scales(%s : memref<8x4xf32>) zero_points(%z : memref<8x4xf32>)
    moves(%m : memref<8x128xi8>) codes(%q : memref<8x64xi8>)
    outs(%dx : memref<?x128xf32>) transpose_weight
  qaf.kernel.attention scale(0.25)
    ins(%aq, %ak, %av, %ab : memref<?x?x?x16xf32>, memref<?x?x?x16xf32>,
        memref<?x?x?x16xf32>, memref<?x?x?x?xf32>)
    outs(%ao : memref<?x?x?x16xf32>)
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


def to_cpu(lines, workgroups):
    """The kernels as func.funcs calling the emulator; `workgroups` gets
    each kernel's shared buffers' shapes (they become its last arguments)."""
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
            workgroups[name[1:]] = [
                tuple(int(d) for d in shape.split("x"))
                for shape in re.findall(r"memref<([0-9x]+)xf32>", workgroup or "")]
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
            raise SystemExit(f"check_kernels.py: no CPU form for: {line.strip()}")
        out.append(line)
    return "module {\n" + EMULATOR_DECLS + "\n".join(out) + "\n}\n"


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, capture_output=True, text=True,
                          **kwargs).stdout


def instantiate(args, workdir, options):
    """The module with one op of each kind after qaf-cuda-kernels."""
    host = os.path.join(workdir, "host.mlir")
    with open(host, "w") as f:
        f.write(HOST)
    return run([args.qaf_opt, host, f"-qaf-cuda-kernels={options}"])


class View:
    """A strided view as a kernel argument (memref descriptor, expanded:
    allocated and aligned pointers, offset, sizes, strides)."""

    def __init__(self, array, sizes, strides, offset=0):
        self.array, self.sizes, self.strides, self.offset = array, sizes, strides, offset

    def args(self, address):
        pointer = ctypes.c_void_p(address)
        return [pointer, pointer, ctypes.c_int64(self.offset)] + \
            [ctypes.c_int64(v) for v in list(self.sizes) + list(self.strides)]


def scalar_arg(value):
    """A kernel's scalar argument: f32 for a Python float, else index."""
    return ctypes.c_float(value) if isinstance(value, float) else ctypes.c_int64(value)


def contiguous(array):
    strides = [s // array.itemsize for s in array.strides]
    return View(array, array.shape, strides)


def rows3(array):
    """A 2-D array as the [1, rows, cols] view the host passes."""
    return View(array, (1,) + array.shape, (0,) + tuple(s // array.itemsize
                                                        for s in array.strides))


class Emulator:
    """The kernels as CPU functions, a block's threads as host threads."""

    def __init__(self, args, precision, workdir):
        kernels = instantiate(args, workdir, f"precision={precision}")
        cpu = os.path.join(workdir, f"cpu_{precision}.mlir")
        self.workgroups = {}
        with open(cpu, "w") as f:
            f.write(to_cpu(kernels_module_body(kernels), self.workgroups))
        lowered = run([args.qaf_opt, cpu, "--arith-expand=include-bf16=true",
                       "--convert-scf-to-cf", "--convert-math-to-llvm",
                       "--convert-vector-to-llvm",
                       "--finalize-memref-to-llvm", "--convert-arith-to-llvm",
                       "--convert-index-to-llvm", "--convert-func-to-llvm",
                       "--convert-cf-to-llvm", "--reconcile-unrealized-casts"])
        ir = os.path.join(workdir, f"kernels_{precision}.ll")
        with open(ir, "w") as f:
            f.write(run([args.mlir_translate, "--mlir-to-llvmir"], input=lowered))
        library = os.path.join(workdir, f"libkernels_{precision}.so")
        run([args.cc, "-shared", "-fPIC", "-O1", "-Wno-override-module", ir,
             args.emulator, "-o", library, "-lpthread"])
        self.lib = ctypes.CDLL(library)
        self.lib.emu_init()

    def launch(self, name, grid, views, scalars=()):
        function = getattr(self.lib, name)
        function.restype = None
        base = [a for v in views for a in v.args(v.array.ctypes.data)] + \
            [scalar_arg(s) for s in scalars]
        for bz in range(grid[2]):
            for by in range(grid[1]):
                for bx in range(grid[0]):
                    # Shared memory: fresh per block, common to its threads.
                    tiles = [np.zeros(shape, np.float32) for shape in self.workgroups[name]]
                    call = base + [a for t in tiles
                                   for a in contiguous(t).args(t.ctypes.data)]

                    def thread(t, bx=bx, by=by, bz=bz, call=call):
                        self.lib.emu_set_ids(ctypes.c_int64(t), ctypes.c_int64(bx),
                                             ctypes.c_int64(by), ctypes.c_int64(bz))
                        function(*call)

                    threads = [threading.Thread(target=thread, args=(t,))
                               for t in range(THREADS)]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()


def cubin_of(text):
    """The cubin of gpu.binary @qaf_cuda_kernels. MLIR prints a string's
    backslash as two and every other byte that is not printable (or a
    quote) as a backslash and two hex digits."""
    match = re.search(r'gpu\.binary @qaf_cuda_kernels.*?bin = "((?:[^"\\]|\\\\|\\[0-9A-Fa-f]{2})*)"',
                      text, re.S)
    if not match:
        raise SystemExit("check_kernels.py: no cubin in gpu-module-to-binary's output")
    return re.sub(rb"\\(\\|[0-9A-Fa-f]{2})",
                  lambda m: b"\\" if m.group(1) == b"\\" else bytes([int(m.group(1), 16)]),
                  match.group(1).encode("latin-1"))


class CudaDevice:
    """The kernels on the GPU through the CUDA driver API: compiled by the
    GPU lowering and ptxas for the device's architecture."""

    def __init__(self, args, precision, workdir):
        self.cuda = ctypes.CDLL("libcuda.so.1")
        self.check(self.cuda.cuInit(0), "cuInit")
        device = ctypes.c_int()
        self.check(self.cuda.cuDeviceGet(ctypes.byref(device), 0), "cuDeviceGet")
        major = ctypes.c_int()
        # CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
        self.check(self.cuda.cuDeviceGetAttribute(ctypes.byref(major), 75, device),
                   "cuDeviceGetAttribute")
        # sm_80 code runs on every 8.x device; 9.x needs its own.
        arch, features = ("sm_90", "+ptx80") if major.value >= 9 else ("sm_80", "+ptx70")
        self.context = ctypes.c_void_p()
        self.check(self.cuda.cuDevicePrimaryCtxRetain(ctypes.byref(self.context), device),
                   "cuDevicePrimaryCtxRetain")
        self.check(self.cuda.cuCtxSetCurrent(self.context), "cuCtxSetCurrent")
        kernels = instantiate(args, workdir, f"arch={arch} precision={precision}")
        binary = run([args.qaf_opt, "--pass-pipeline=builtin.module("
                      f"nvvm-attach-target{{chip={arch} features={features} O=3}},gpu.module("
                      "convert-scf-to-cf,convert-gpu-to-nvvm,canonicalize,cse),"
                      "reconcile-unrealized-casts,gpu-module-to-binary{format=bin})"],
                     input=kernels)
        self.cubin = cubin_of(binary)
        self.module = ctypes.c_void_p()
        self.check(self.cuda.cuModuleLoadData(ctypes.byref(self.module), self.cubin),
                   "cuModuleLoadData")

    def check(self, status, call):
        if status != 0:
            name = ctypes.c_char_p()
            self.cuda.cuGetErrorName(status, ctypes.byref(name))
            raise SystemExit(f"check_kernels.py: {call} failed: "
                             f"{name.value.decode() if name.value else status}")

    def launch(self, name, grid, views, scalars=()):
        function = ctypes.c_void_p()
        self.check(self.cuda.cuModuleGetFunction(ctypes.byref(function), self.module,
                                                 name.encode()), name)
        buffers = {}
        for view in views:
            if id(view.array) in buffers:
                continue
            pointer = ctypes.c_uint64()
            self.check(self.cuda.cuMemAlloc_v2(ctypes.byref(pointer),
                                               ctypes.c_size_t(max(view.array.nbytes, 1))),
                       "cuMemAlloc")
            self.check(self.cuda.cuMemcpyHtoD_v2(pointer, ctypes.c_void_p(view.array.ctypes.data),
                                                 ctypes.c_size_t(view.array.nbytes)),
                       "cuMemcpyHtoD")
            buffers[id(view.array)] = (view.array, pointer)
        values = [a for v in views for a in v.args(buffers[id(v.array)][1].value)] + \
            [scalar_arg(s) for s in scalars]
        params = (ctypes.c_void_p * len(values))(
            *[ctypes.cast(ctypes.pointer(v), ctypes.c_void_p) for v in values])
        self.check(self.cuda.cuLaunchKernel(function, *[ctypes.c_uint(g) for g in grid],
                                            ctypes.c_uint(THREADS), ctypes.c_uint(1),
                                            ctypes.c_uint(1), ctypes.c_uint(0), None,
                                            params, None), f"cuLaunchKernel({name})")
        self.check(self.cuda.cuCtxSynchronize(), f"{name} (cuCtxSynchronize)")
        for array, pointer in buffers.values():
            self.check(self.cuda.cuMemcpyDtoH_v2(ctypes.c_void_p(array.ctypes.data), pointer,
                                                 ctypes.c_size_t(array.nbytes)),
                       "cuMemcpyDtoH")
            self.check(self.cuda.cuMemFree_v2(pointer), "cuMemFree")


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


def check_matmul(device, precision, rng, failures):
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
    device.launch(f"qaf_matmul_{precision}", (ceil_div(n, TILE), ceil_div(m, TILE), batch),
           [contiguous(a), b_view, contiguous(c)])
    check(f"matmul {precision} [2x70x40]·[2x40x72]ᵀ", c, expected, scale, failures)

    # A stored transposed [K, M] with a broadcast (stride 0) batch of 1.
    m, n, k = 33, 20, 17
    a_stored = rng.standard_normal((k, m)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    c = rng.standard_normal((m, n)).astype(np.float32)
    expected = c + round_as(a_stored, precision).T @ round_as(b, precision)
    scale = np.abs(c) + np.abs(a_stored).T @ np.abs(b)
    device.launch(f"qaf_matmul_{precision}", (1, 1, 1),
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


def check_qlinear(device, precision, rng, failures):
    cases = [(2, 32, False), (3, 32, False), (4, 32, True), (8, 4, False)]
    for bits, group, with_moves in cases:
        # Tensor cores: M >= 16, ragged M and N; y += x · wᵀ.
        m, n, k = 20, 72, 128 if group != 4 else 12
        w, views = quantized_layer(rng, n, k, bits, group, with_moves)
        x = rng.standard_normal((m, k)).astype(np.float32)
        y = rng.standard_normal((m, n)).astype(np.float32)
        expected = y + round_as(x, precision) @ round_as(w, precision).T
        scale = np.abs(y) + np.abs(x) @ np.abs(w).T
        device.launch(f"qaf_qlinear_{precision}", (ceil_div(n, TILE), ceil_div(m, TILE), 1),
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
        device.launch("qaf_qlinear_decode", (ceil_div(n, 4), 1, 1),
               [rows3(x)] + views + [rows3(y)], (bits, group_decode, int(with_moves)))
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
        device.launch(f"qaf_qlinear_transposed_{precision}",
               (ceil_div(k, TILE), ceil_div(m, TILE), 1),
               [rows3(g)] + views + [rows3(y)], (bits, group, int(with_moves)))
        check(f"qlinear transposed {precision} {bits}-bit g{group} M={m} N={n} K={k}"
              f"{' moves' if with_moves else ''}", y, expected, scale, failures)


def check_decode_fast_path(device, rng, failures):
    """4-bit rows without moves in groups of whole 32-code units: one
    128-bit load per unit where the row is 16-byte aligned; the same rows
    read through a view 8 bytes into its buffer (misaligned) take the byte
    path, and so does a last partial unit."""
    for k, group, offset in ((352, 32, 0), (352, 32, 8), (128, 64, 0)):
        m, n, bits = 5, 9, 4
        w, views = quantized_layer(rng, n, k, bits, group, False)
        if offset:
            codes = views[2].array
            padded = np.zeros(codes.size + offset, np.int8)
            padded[offset:] = codes.reshape(-1)
            views[2] = View(padded, codes.shape, (codes.shape[1], 1), offset)
        x = rng.standard_normal((m, k)).astype(np.float32)
        y = rng.standard_normal((m, n)).astype(np.float32)
        expected = y + x.astype(np.float64) @ w.astype(np.float64).T
        scale = np.abs(y) + np.abs(x) @ np.abs(w).T
        device.launch("qaf_qlinear_decode", (ceil_div(n, 4), 1, 1),
                      [rows3(x)] + views + [rows3(y)], (bits, group, 0))
        check(f"qlinear decode 4-bit g{group} M={m} N={n} K={k} codes at byte {offset}",
              y, expected, scale, failures)


def attention_reference(q, k, v, bias, scale, zero_nan_rows=False):
    """softmax(scale · q · kᵀ + bias) · v in float64, query head h reading
    key/value head h / (H / Hk), batch and bias dims of 1 broadcast; with
    zero_nan_rows, NaN probabilities count as 0 (transformers' exports)."""
    heads, kv_heads = q.shape[1], k.shape[1]
    repeat = heads // kv_heads
    k64 = np.repeat(k.astype(np.float64), repeat, axis=1)
    v64 = np.repeat(v.astype(np.float64), repeat, axis=1)
    scores = scale * np.einsum("bhsd,bhtd->bhst", q.astype(np.float64), k64)
    if bias is not None:
        scores = scores + bias
    with np.errstate(invalid="ignore"):
        shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
        p = shifted / shifted.sum(axis=-1, keepdims=True)
    if zero_nan_rows:
        p = np.where(np.isnan(p), 0.0, p)
    return np.einsum("bhst,bhte->bhse", p, v64), np.einsum(
        "bhst,bhte->bhse", np.nan_to_num(p), np.abs(v64))


def broadcast_view(array, full_shape):
    """`array` viewed at `full_shape`, its dims of 1 with stride 0 (as the
    launch passes a broadcast key, value or bias)."""
    strides = [0 if size == 1 and full != 1 else s // array.itemsize
               for size, full, s in zip(array.shape, full_shape, array.strides)]
    return View(array, full_shape, strides)


def check_attention(device, rng, failures):
    """The fused kernel against numpy: grouped heads, keys not a multiple
    of the 4 warps, a causal mask of -inf and one of a large negative,
    broadcast batches and bias heads, head sizes 16 to 128 (E ≠ D), decode
    (one query), fewer keys than warps, and a row masked entirely (NaN)."""
    cases = [
        # (name, B, H, Hk, S, T, D, E, bias kind, kv batch)
        ("GQA 4/2 heads, causal -inf mask", 2, 4, 2, 5, 37, 16, 16, "causal", 2),
        ("decode, 9/3 heads, d 64, no mask", 1, 9, 3, 1, 130, 64, 64, None, 1),
        ("d 128, e 96, bias [1, H, S, T], kv batch 1", 2, 3, 3, 4, 9, 128, 96, "heads", 1),
        ("3 keys (fewer than warps), mask -1e9", 1, 2, 1, 3, 3, 32, 40, "large", 1),
        ("a row masked entirely", 1, 2, 2, 2, 6, 16, 16, "row", 1),
        ("a row masked entirely, zero_nan_rows", 1, 2, 2, 2, 6, 16, 16, "row", 1),
    ]
    for name, batch, heads, kv_heads, queries, keys, d, e, kind, kv_batch in cases:
        zero_nan_rows = name.endswith("zero_nan_rows")
        q = rng.standard_normal((batch, heads, queries, d)).astype(np.float32)
        k = rng.standard_normal((kv_batch, kv_heads, keys, d)).astype(np.float32)
        v = rng.standard_normal((kv_batch, kv_heads, keys, e)).astype(np.float32)
        bias = None
        if kind in ("causal", "large"):
            offset = keys - queries
            allowed = np.arange(keys)[None, :] <= np.arange(queries)[:, None] + offset
            bias = np.where(allowed, 0, -np.inf if kind == "causal" else -1e9)
            bias = np.broadcast_to(bias, (batch, 1, queries, keys)).astype(np.float32).copy()
        elif kind == "heads":
            bias = rng.standard_normal((1, heads, queries, keys)).astype(np.float32)
        elif kind == "row":
            bias = np.zeros((1, 1, queries, keys), np.float32)
            bias[0, 0, 1, :] = -np.inf
        scale = 1 / np.sqrt(d)
        expected, magnitude = attention_reference(q, k, v, bias, scale, zero_nan_rows)
        out = np.full((batch, heads, queries, e), 7.0, np.float32)
        full = (batch, kv_heads, keys)
        views = [contiguous(q), broadcast_view(k, full + (d,)),
                 broadcast_view(v, full + (e,)),
                 broadcast_view(bias, (batch, heads, queries, keys))
                 if bias is not None else contiguous(q), contiguous(out)]
        device.launch("qaf_attention", (queries, heads, batch), views,
                      (float(scale), int(bias is not None), int(zero_nan_rows)))
        nan_expected = np.isnan(expected)
        if not np.array_equal(np.isnan(out), nan_expected):
            print(f"FAILED: attention {name}: NaN where the reference has none, or "
                  f"the other way round")
            failures.append(f"attention {name}")
            continue
        check(f"attention {name}", np.where(nan_expected, 0, out),
              np.where(nan_expected, 0, expected), magnitude + 1, failures)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--qaf-opt", required=True)
    parser.add_argument("--mlir-translate", required=True)
    parser.add_argument("--cc", required=True)
    parser.add_argument("--emulator", help="warp_emulator.c: run on the CPU")
    parser.add_argument("--device", choices=["emulator", "cuda"], default="emulator",
                        help="where the kernels run: the CPU emulation or GPU 0")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    failures = []
    with tempfile.TemporaryDirectory() as workdir:
        for precision in ("tf32", "bf16"):
            device = (CudaDevice if args.device == "cuda" else Emulator)(
                args, precision, workdir)
            check_matmul(device, precision, rng, failures)
            check_qlinear(device, precision, rng, failures)
            check_decode_fast_path(device, rng, failures)
            if precision == "tf32":
                check_attention(device, rng, failures)
    if failures:
        print(f"{len(failures)} case(s) failed")
        return 1
    print("all cases passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

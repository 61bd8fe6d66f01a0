#!/usr/bin/env python3
"""ONNX Runtime's MatMulNBits on the decode shapes of qaf-bench-qlinear.

One model per shape holds enough MatMulNBits nodes (each its own int4
weight, all reading the same x [1, K]) to exceed the last-level cache several
times over; the time per node is the run time divided by their number, so
every node reads its weight from memory, like qaf-bench-qlinear's rotation.
Zero points are ONNX Runtime's own packed uint8 form (what its quantizer
writes). Prints one JSON object.

  ort_bench.py --threads N [--accuracy-level 0|4] [--min-time S]
"""
import argparse
import json
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

SHAPES = [(576, 1536), (1536, 576), (2048, 2048), (2048, 8192), (4096, 4096), (4096, 11008)]
BITS, GROUP = 4, 64
ROTATION_BYTES = 256 << 20


def build(k, n, copies, accuracy_level, rng):
    blocks = k // GROUP
    nodes, inits, outputs = [], [], []
    for c in range(copies):
        codes = rng.integers(0, 256, size=(n, blocks, GROUP * BITS // 8), dtype=np.uint8)
        scales = np.full((n * blocks,), 0.01, np.float32)
        zeros = np.full((n * ((blocks + 1) // 2),), 0x77, np.uint8)
        inits += [numpy_helper.from_array(codes, f"b{c}"),
                  numpy_helper.from_array(scales, f"s{c}"),
                  numpy_helper.from_array(zeros, f"z{c}")]
        nodes.append(helper.make_node(
            "MatMulNBits", ["x", f"b{c}", f"s{c}", f"z{c}"], [f"y{c}"], domain="com.microsoft",
            K=k, N=n, bits=BITS, block_size=GROUP, accuracy_level=accuracy_level))
        outputs.append(helper.make_tensor_value_info(f"y{c}", TensorProto.FLOAT, [1, n]))
    graph = helper.make_graph(nodes, "decode",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, k])],
                              outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21),
                                                   helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 10
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--accuracy-level", type=int, default=0)
    parser.add_argument("--min-time", type=float, default=0.5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    results = []
    for k, n in SHAPES:
        blocks = k // GROUP
        weight_bytes = n * k * BITS // 8 + n * blocks * 4 + n * ((blocks + 1) // 2)
        copies = max(2, ROTATION_BYTES // weight_bytes)
        model = build(k, n, copies, args.accuracy_level, rng)
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(model.SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
        x = rng.standard_normal((1, k)).astype(np.float32)
        session.run(None, {"x": x})
        runs, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.min_time:
            session.run(None, {"x": x})
            runs += 1
        seconds = (time.perf_counter() - start) / runs / copies
        results.append({"k": k, "n": n, "weight_bytes": weight_bytes, "copies": copies,
                        "us": seconds * 1e6, "gbs": weight_bytes / seconds / 1e9})
    print(json.dumps({"threads": args.threads, "accuracy_level": args.accuracy_level,
                      "onnxruntime": ort.__version__, "shapes": results}))


if __name__ == "__main__":
    main()

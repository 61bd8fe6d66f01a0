"""Runs two models in ONNX Runtime on the same input; prints the exported
model's node domains and whether the outputs are identical."""
import sys

import numpy as np
import onnx
import onnxruntime as ort

original, exported = sys.argv[1], sys.argv[2]
model = onnx.load(exported)
print("node types:", " ".join(f"{n.op_type}@{n.domain or 'ai.onnx'}" for n in model.graph.node))
x = np.random.default_rng(1).standard_normal((2, 3, 8)).astype(np.float32)
outputs = [ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
           for path in (original, exported)]
print("outputs identical:", bool(np.array_equal(outputs[0], outputs[1])))

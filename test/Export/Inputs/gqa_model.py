"""GroupQueryAttention as ONNX Runtime GenAI's builder writes it (separate
Q/K/V, BNSH past/present of symbolic length, rotary caches as initializers,
local window and softcap attributes).

  gqa_model.py make model.onnx      writes the model
  gqa_model.py compare a.onnx b.onnx runs both in ONNX Runtime on the same
                                     decode-step inputs (batch 2, different
                                     seqlens_k) and prints whether every
                                     output is identical
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto as T, helper, numpy_helper

HEADS, KV_HEADS, HEAD_SIZE, MAX_POSITIONS = 4, 2, 16, 32


def make(path):
    rng = np.random.default_rng(0)
    angles = rng.uniform(0, 6, (MAX_POSITIONS, HEAD_SIZE // 2))
    caches = [numpy_helper.from_array(np.cos(angles).astype(np.float32), "cos_cache"),
              numpy_helper.from_array(np.sin(angles).astype(np.float32), "sin_cache")]
    node = helper.make_node(
        "GroupQueryAttention",
        ["query", "key", "value", "past_key", "past_value", "seqlens_k",
         "total_sequence_length", "cos_cache", "sin_cache"],
        ["output", "present_key", "present_value"], name="attn",
        domain="com.microsoft", num_heads=HEADS, kv_num_heads=KV_HEADS,
        do_rotary=1, rotary_interleaved=0, local_window_size=6, softcap=30.0,
        scale=0.25)
    hidden, kv_hidden = HEADS * HEAD_SIZE, KV_HEADS * HEAD_SIZE
    past = ["batch", KV_HEADS, "past_sequence_length", HEAD_SIZE]
    inputs = [helper.make_tensor_value_info("query", T.FLOAT, ["batch", "sequence", hidden]),
              helper.make_tensor_value_info("key", T.FLOAT, ["batch", "sequence", kv_hidden]),
              helper.make_tensor_value_info("value", T.FLOAT, ["batch", "sequence", kv_hidden]),
              helper.make_tensor_value_info("past_key", T.FLOAT, past),
              helper.make_tensor_value_info("past_value", T.FLOAT, past),
              helper.make_tensor_value_info("seqlens_k", T.INT32, ["batch"]),
              helper.make_tensor_value_info("total_sequence_length", T.INT32, [])]
    present = ["batch", KV_HEADS, "total_sequence_length", HEAD_SIZE]
    outputs = [helper.make_tensor_value_info("output", T.FLOAT, ["batch", "sequence", hidden]),
               helper.make_tensor_value_info("present_key", T.FLOAT, present),
               helper.make_tensor_value_info("present_value", T.FLOAT, present)]
    graph = helper.make_graph([node], "g", inputs, outputs, caches)
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)])
    onnx.save(model, path)


def compare(first, second):
    import onnxruntime as ort
    rng = np.random.default_rng(1)
    f = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    feeds = {"query": f(2, 1, HEADS * HEAD_SIZE),
             "key": f(2, 1, KV_HEADS * HEAD_SIZE),
             "value": f(2, 1, KV_HEADS * HEAD_SIZE),
             "past_key": f(2, KV_HEADS, 9, HEAD_SIZE),
             "past_value": f(2, KV_HEADS, 9, HEAD_SIZE),
             "seqlens_k": np.array([9, 4], np.int32),
             "total_sequence_length": np.array(10, np.int32)}
    print("node types:", " ".join(f"{n.op_type}@{n.domain or 'ai.onnx'}"
                                  for n in onnx.load(second).graph.node))
    results = [ort.InferenceSession(p, providers=["CPUExecutionProvider"])
               .run(None, feeds) for p in (first, second)]
    print("outputs:", len(results[1]))
    print("outputs identical:", all(np.array_equal(a, b)
                                    for a, b in zip(*results)))


if __name__ == "__main__":
    {"make": make, "compare": compare}[sys.argv[1]](*sys.argv[2:])

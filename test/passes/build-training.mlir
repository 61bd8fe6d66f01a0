// qaf-build-training on a tiny model (embedding, a quantized projection with
// an adapter, tanh as the logits), after the quantize and attach passes.
// Weights are random blobs appended here.
//
// RUN: %python %S/Inputs/append_blobs.py %s > %t.mlir
// RUN: qaf-opt %t.mlir --qaf-quantize-weights="bits=4 group-size=16" --qaf-attach-adapters="method=lora rank=2 alpha=4" --qaf-build-training="lr=0.01" | FileCheck %s --check-prefix=LORA
// RUN: qaf-opt %t.mlir --qaf-quantize-weights="bits=4 group-size=16" --qaf-attach-adapters="method=lota rank=4" --qaf-build-training="accumulate=2 schedule=cosine warmup=10 total-steps=100" | FileCheck %s --check-prefix=LOTA
// RUN: qaf-opt %t.mlir --qaf-quantize-weights="bits=4 group-size=16" --qaf-attach-adapters="method=qalora rank=2 alpha=6" --qaf-build-training | FileCheck %s --check-prefix=QALORA
// RUN: qaf-opt %t.mlir --qaf-quantize-weights="bits=4 group-size=16" --qaf-attach-adapters="method=qahira repeat-out=2 alpha=3" --qaf-build-training | FileCheck %s --check-prefix=QAHIRA
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=l4q rank=2 alpha=4 bits=3 group-size=16" --qaf-build-training | FileCheck %s --check-prefix=L4Q

func.func @main_graph(%ids: tensor<2x8xi64> {onnx.name = "input_ids"}) -> (tensor<2x8x16xf32> {onnx.name = "logits"}) {
  %embed = onnx.Constant {value = dense_resource<embed> : tensor<16x32xf32>} : tensor<16x32xf32> loc("embed")
  %w = onnx.Constant {value = dense_resource<proj> : tensor<32x16xf32>} : tensor<32x16xf32> loc("proj")
  %h = onnx.Gather %embed, %ids : (tensor<16x32xf32>, tensor<2x8xi64>) -> tensor<2x8x32xf32>
  %y = onnx.MatMul %h, %w : (tensor<2x8x32xf32>, tensor<32x16xf32>) -> tensor<2x8x16xf32>
  %logits = onnx.Tanh %y : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  return %logits : tensor<2x8x16xf32>
}

// The forward reads the parameters as arguments too (the runtime's buffers);
// frozen weights stay constants.
// LORA-LABEL: func.func @main_graph
// LORA-SAME: (%[[A:arg[0-9]+]]: tensor<2x32xf32> {qaf.weight_name = "proj.lora_A", qaf.weight_value = dense_resource<proj.lora_A> : tensor<2x32xf32>},
// LORA-SAME: %[[B:arg[0-9]+]]: tensor<16x2xf32> {qaf.weight_name = "proj.lora_B", qaf.weight_value = dense_resource<proj.lora_B> : tensor<16x2xf32>},
// LORA-SAME: %{{.*}}: tensor<2x8xi64> {onnx.name = "input_ids"})
// LORA: qaf.lora %{{.*}}, %[[A]], %[[B]]

// train_step: parameters, then AdamW's two moments per parameter (zeros),
// then the inputs, the labels and the step; it returns the mean loss and the
// new parameters and moments, each tied to its argument.
// LORA-LABEL: func.func @train_step
// LORA-SAME: (%[[A:arg[0-9]+]]: tensor<2x32xf32> {qaf.weight_name = "proj.lora_A", {{[^}]*}}}, %[[B:arg[0-9]+]]: tensor<16x2xf32> {qaf.weight_name = "proj.lora_B", {{[^}]*}}},
// LORA-SAME: %[[MA:arg[0-9]+]]: tensor<2x32xf32> {qaf.weight_name = "proj.lora_A.exp_avg", qaf.weight_value = dense<0.000000e+00> : tensor<2x32xf32>},
// LORA-SAME: %[[VA:arg[0-9]+]]: tensor<2x32xf32> {qaf.weight_name = "proj.lora_A.exp_avg_sq", qaf.weight_value = dense<0.000000e+00> : tensor<2x32xf32>},
// LORA-SAME: %[[MB:arg[0-9]+]]: tensor<16x2xf32> {qaf.weight_name = "proj.lora_B.exp_avg", {{[^}]*}}}, %[[VB:arg[0-9]+]]: tensor<16x2xf32> {qaf.weight_name = "proj.lora_B.exp_avg_sq", {{[^}]*}}},
// LORA-SAME: %[[IDS:arg[0-9]+]]: tensor<2x8xi64> {onnx.name = "input_ids"}, %[[LABELS:arg[0-9]+]]: tensor<2x8xi64> {onnx.name = "labels"}, %[[STEP:arg[0-9]+]]: tensor<i64> {onnx.name = "step"})
// LORA-SAME: -> (tensor<f32> {onnx.name = "loss"}, tensor<2x32xf32> {onnx.name = "proj.lora_A", qaf.updates = "proj.lora_A"}, tensor<16x2xf32> {onnx.name = "proj.lora_B", qaf.updates = "proj.lora_B"},
// LORA-SAME: tensor<2x32xf32> {onnx.name = "proj.lora_A.exp_avg", qaf.updates = "proj.lora_A.exp_avg"}, tensor<2x32xf32> {onnx.name = "proj.lora_A.exp_avg_sq", qaf.updates = "proj.lora_A.exp_avg_sq"},
// LORA-SAME: tensor<16x2xf32> {onnx.name = "proj.lora_B.exp_avg", qaf.updates = "proj.lora_B.exp_avg"}, tensor<16x2xf32> {onnx.name = "proj.lora_B.exp_avg_sq", qaf.updates = "proj.lora_B.exp_avg_sq"})
// Loss: labels < 0 are masked, the mean over the labelled tokens.
// LORA: %[[LOGITS:.*]] = onnx.Tanh
// LORA: onnx.GreaterOrEqual %[[LABELS]]
// LORA: %[[LOGP:.*]] = onnx.LogSoftmax %[[LOGITS]] {axis = 2 : i64}
// LORA: onnx.GatherElements %[[LOGP]]
// LORA: %[[LOSS:.*]] = onnx.Div
// The backward starts at the logits with softmax − onehot.
// LORA: onnx.Exp %[[LOGP]]
// Optimizer step t = step (1-based, qaf-run's convention); global-norm
// clipping scales both gradients.
// LORA-NOT: onnx.Add %[[STEP]]
// LORA: %[[NORM:.*]] = onnx.Sqrt
// LORA: %[[CLIP:.*]] = onnx.Min
// LORA: %[[GA:.*]] = onnx.Mul %{{.*}}, %[[CLIP]] : (tensor<2x32xf32>, tensor<f32>)
// LORA: %[[GB:.*]] = onnx.Mul %{{.*}}, %[[CLIP]] : (tensor<16x2xf32>, tensor<f32>)
// LORA: %[[NA:.*]], %[[NMA:.*]], %[[NVA:.*]] = qaf.adamw_update %[[A]], %[[GA]], %[[MA]], %[[VA]], %[[STEP]] {beta1 = 9.000000e-01 : f64, {{.*}}, lr = 1.000000e-02 : f64, schedule = "constant", total_steps = 1000 : i64, warmup_steps = 0 : i64, weight_decay = 1.000000e-02 : f64}
// LORA: %[[NB:.*]], %[[NMB:.*]], %[[NVB:.*]] = qaf.adamw_update %[[B]], %[[GB]], %[[MB]], %[[VB]], %[[STEP]]
// LORA: return %[[LOSS]], %[[NA]], %[[NB]], %[[NMA]], %[[NVA]], %[[NMB]], %[[NVB]]

// eval_step: the summed token loss and the token count, no optimizer.
// LORA-LABEL: func.func @eval_step
// LORA-SAME: %{{.*}}: tensor<2x8xi64> {onnx.name = "input_ids"}, %{{.*}}: tensor<2x8xi64> {onnx.name = "labels"})
// LORA-SAME: -> (tensor<f32> {onnx.name = "loss_sum"}, tensor<i64> {onnx.name = "token_count"})
// LORA: %[[SUM:.*]] = onnx.ReduceSum
// LORA: %[[COUNT:.*]] = onnx.ReduceSum
// LORA: %[[COUNT64:.*]] = onnx.Cast %[[COUNT]] {to = 7 : i64}
// LORA-NOT: qaf.adamw_update
// LORA: return %[[SUM]], %[[COUNT64]]

// LoTA with optimizer=auto: t-SignSGD for the ternary factors, no moments;
// accumulate=2 sums gradients into float state, and only the second call
// of each pair ((step - 1) % 2 = 1) applies the update and clears the sums.
// LOTA-LABEL: func.func @train_step
// LOTA-SAME: (%[[A:arg[0-9]+]]: tensor<4x32xi8> {qaf.weight_name = "proj.lota_A", {{[^}]*}}}, %[[B:arg[0-9]+]]: tensor<16x4xi8> {qaf.weight_name = "proj.lota_B", {{[^}]*}}},
// LOTA-SAME: %[[SA:arg[0-9]+]]: tensor<4x32xf32> {qaf.weight_name = "proj.lota_A.grad_accum", qaf.weight_value = dense<0.000000e+00> : tensor<4x32xf32>},
// LOTA-SAME: %[[SB:arg[0-9]+]]: tensor<16x4xf32> {qaf.weight_name = "proj.lota_B.grad_accum", {{[^}]*}}},
// LOTA-SAME: %{{.*}}: tensor<2x8xi64> {onnx.name = "input_ids"}, %{{.*}}: tensor<2x8xi64> {onnx.name = "labels"}, %[[STEP:arg[0-9]+]]: tensor<i64> {onnx.name = "step"})
// LOTA-SAME: -> (tensor<f32> {onnx.name = "loss"}, tensor<4x32xi8> {onnx.name = "proj.lota_A", qaf.updates = "proj.lota_A"}, tensor<16x4xi8> {onnx.name = "proj.lota_B", qaf.updates = "proj.lota_B"},
// LOTA-SAME: tensor<4x32xf32> {onnx.name = "proj.lota_A.grad_accum", qaf.updates = "proj.lota_A.grad_accum"}, tensor<16x4xf32> {onnx.name = "proj.lota_B.grad_accum", qaf.updates = "proj.lota_B.grad_accum"})
// LOTA-NOT: exp_avg
// LOTA: %[[EARLIER:.*]] = onnx.Sub %[[STEP]], %{{.*}} : (tensor<i64>, tensor<i64>)
// LOTA: %[[TWO:.*]] = onnx.Constant {value = dense<2> : tensor<i64>}
// LOTA: %[[DONE:.*]] = onnx.Div %[[EARLIER]], %[[TWO]]
// LOTA: %[[T:.*]] = onnx.Add %[[DONE]]
// LOTA: %[[APPLIES:.*]] = onnx.Equal
// LOTA: %[[SUMA:.*]] = onnx.Add %[[SA]], %{{.*}} : (tensor<4x32xf32>, tensor<4x32xf32>)
// LOTA: %[[NSA:.*]] = onnx.Where %[[APPLIES]], %{{.*}}, %[[SUMA]]
// LOTA: %[[MEANA:.*]] = onnx.Mul %[[SUMA]]
// LOTA: %[[SUMB:.*]] = onnx.Add %[[SB]]
// LOTA: %[[NSB:.*]] = onnx.Where %[[APPLIES]], %{{.*}}, %[[SUMB]]
// LOTA: %[[MEANB:.*]] = onnx.Mul %[[SUMB]]
// LOTA-NOT: onnx.Sqrt
// LOTA: %[[UA:.*]] = qaf.tsignsgd_update %[[A]], %[[MEANA]], %[[T]] {total_steps = 100 : i64}
// LOTA: %[[NA:.*]] = onnx.Where %[[APPLIES]], %[[UA]], %[[A]]
// LOTA: %[[UB:.*]] = qaf.tsignsgd_update %[[B]], %[[MEANB]], %[[T]]
// LOTA: %[[NB:.*]] = onnx.Where %[[APPLIES]], %[[UB]], %[[B]]
// LOTA: return %{{.*}}, %[[NA]], %[[NB]], %[[NSA]], %[[NSB]]

// QA-LoRA's and QA-HiRA's eval_step computes the merged layer itself: the
// quantized base with z' = float(z − factor·update / (g·s)) in double
// (quant::absorbIntoZeroPoints), QA-LoRA's update B·A summed in double and
// rounded to float once (its mergeInto), so that its perplexity is the
// merged model's to the last digit. The trained values stay parameters
// (qaf.parameter: no adapter op reads them there); train_step keeps the
// adapter, whose gradients it needs.
// QALORA-LABEL: func.func @train_step
// QALORA: qaf.qalora
// QALORA-LABEL: func.func @eval_step
// QALORA-SAME: (%[[A:arg[0-9]+]]: tensor<2x2xf32> {qaf.parameter, qaf.weight_name = "proj.qalora_A"
// QALORA-SAME: %[[B:arg[0-9]+]]: tensor<16x2xf32> {qaf.parameter, qaf.weight_name = "proj.qalora_B"
// QALORA-NOT: qaf.qalora
// QALORA: %[[CODES:.*]] = onnx.Constant {value = dense_resource<proj.qcodes>
// QALORA: %[[SCALES:.*]] = onnx.Constant {value = dense_resource<proj.scales>
// QALORA: %[[ZEROS:.*]] = onnx.Constant {value = dense_resource<proj.zero_points>
// QALORA: %[[BD:.*]] = onnx.Cast %[[B]] {to = 11 : i64}
// QALORA: %[[AD:.*]] = onnx.Cast %[[A]] {to = 11 : i64}
// QALORA: %[[BA:.*]] = onnx.MatMul %[[BD]], %[[AD]] : (tensor<16x2xf64>, tensor<2x2xf64>) -> tensor<16x2xf64>
// QALORA: %[[BAF:.*]] = onnx.Cast %[[BA]] {to = 1 : i64}
// QALORA: %[[UPDATE:.*]] = onnx.Cast %[[BAF]] {to = 11 : i64}
// QALORA: %[[SD:.*]] = onnx.Cast %[[SCALES]] {to = 11 : i64}
// QALORA: %[[FACTOR:.*]] = onnx.Constant {value = dense<3.000000e+00> : tensor<f64>}
// QALORA: %[[NUM:.*]] = onnx.Mul %[[UPDATE]], %[[FACTOR]]
// QALORA: %[[GROUP:.*]] = onnx.Constant {value = dense<1.600000e+01> : tensor<f64>}
// QALORA: %[[DEN:.*]] = onnx.Mul %[[GROUP]], %[[SD]]
// QALORA: %[[SHIFT:.*]] = onnx.Div %[[NUM]], %[[DEN]]
// QALORA: %[[ZD:.*]] = onnx.Cast %[[ZEROS]] {to = 11 : i64}
// QALORA: %[[MOVED:.*]] = onnx.Sub %[[ZD]], %[[SHIFT]]
// QALORA: %[[MERGED:.*]] = onnx.Cast %[[MOVED]] {to = 1 : i64} : (tensor<16x2xf64>) -> tensor<16x2xf32>
// QALORA: qaf.qlinear %{{.*}}, %[[CODES]], %[[SCALES]], %[[MERGED]] {format = #qaf.qformat<bits = 4, group_size = 16, scheme = asym>}
// QALORA-NOT: qaf.qalora
// QALORA: return

// QA-HiRA: M [8, 2] itself, each row feeding repeat-out = 2 layer rows.
// QAHIRA-LABEL: func.func @eval_step
// QAHIRA-SAME: (%[[M:arg[0-9]+]]: tensor<8x2xf32> {qaf.parameter, qaf.weight_name = "proj.qahira_M"
// QAHIRA-NOT: qaf.qahira
// QAHIRA: %[[MD:.*]] = onnx.Cast %[[M]] {to = 11 : i64}
// QAHIRA: onnx.Reshape %[[MD]], %{{.*}} -> tensor<8x1x2xf64>
// QAHIRA: onnx.Expand {{.*}} -> tensor<8x2x2xf64>
// QAHIRA: %[[ROWS:.*]] = onnx.Reshape {{.*}} -> tensor<16x2xf64>
// QAHIRA: %[[ALPHA:.*]] = onnx.Constant {value = dense<3.000000e+00> : tensor<f64>}
// QAHIRA: onnx.Mul %[[ROWS]], %[[ALPHA]]
// QAHIRA: onnx.Div
// QAHIRA: onnx.Sub
// QAHIRA: %[[MERGED:.*]] = onnx.Cast %{{.*}} {to = 1 : i64} : (tensor<16x2xf64>) -> tensor<16x2xf32>
// QAHIRA: qaf.qlinear %{{.*}}, %{{.*}}, %{{.*}}, %[[MERGED]]
// QAHIRA-NOT: qaf.qahira
// QAHIRA: return

// An L4Q layer: eval_step runs the one qaf-merge-adapters exports, operands
// computed as quant::exportTrainedQuantizer computes them: codes w̃ + 4
// packed at 3 bits (8 codes, one 24-bit value, its three bytes), the
// trained scales, zero points 4 − β/s, the symmetric format.
// L4Q-LABEL: func.func @train_step
// L4Q: qaf.l4q_linear
// L4Q-LABEL: func.func @eval_step
// L4Q-SAME: (%[[A:arg[0-9]+]]: tensor<2x32xf32> {qaf.parameter, qaf.weight_name = "proj.l4q_A"
// L4Q-SAME: %[[B:arg[0-9]+]]: tensor<16x2xf32> {qaf.parameter, qaf.weight_name = "proj.l4q_B"
// L4Q-SAME: %[[S:arg[0-9]+]]: tensor<16x2xf32> {qaf.parameter, qaf.weight_name = "proj.l4q_scales"
// L4Q-SAME: %[[BETA:arg[0-9]+]]: tensor<16x2xf32> {qaf.parameter, qaf.weight_name = "proj.l4q_offsets"
// L4Q-NOT: qaf.l4q_linear
// L4Q: %[[W0:.*]] = onnx.Constant {value = dense_resource<proj>
// L4Q: %{{.*}}, %[[WT:.*]] = qaf.l4q_quantize %[[W0]], %[[A]], %[[B]], %[[S]], %[[BETA]] {alpha = 2.000000e+00 : f64, bits = 3 : i64, group_size = 16 : i64}
// L4Q: %[[HALF:.*]] = onnx.Constant {value = dense<4.000000e+00> : tensor<f32>}
// L4Q: %[[CODES:.*]] = onnx.Add %[[WT]], %[[HALF]]
// L4Q: %[[RUNS:.*]] = onnx.Reshape %[[CODES]], %{{.*}} -> tensor<16x4x8xf32>
// L4Q: %[[PLACES:.*]] = onnx.Constant {value = dense<{{\[}}[1.000000e+00], [8.000000e+00], [6.400000e+01], [5.120000e+02], [4.096000e+03], [3.276800e+04], [2.621440e+05], [0x4A000000]]> : tensor<8x1xf32>}
// L4Q: %[[VALUES:.*]] = onnx.MatMul %[[RUNS]], %[[PLACES]] : (tensor<16x4x8xf32>, tensor<8x1xf32>) -> tensor<16x4x1xf32>
// L4Q: %[[BYTES:.*]] = onnx.Constant {value = dense<[1.000000e+00, 3.906250e-03, 1.52587891E-5]> : tensor<3xf32>}
// L4Q: %[[SHIFTED:.*]] = onnx.Mul %[[VALUES]], %[[BYTES]] {{.*}} -> tensor<16x4x3xf32>
// L4Q: %[[INTS:.*]] = onnx.Cast %[[SHIFTED]] {to = 6 : i64}
// L4Q: %[[LOW:.*]] = onnx.Cast %[[INTS]] {to = 2 : i64} : (tensor<16x4x3xi32>) -> tensor<16x4x3xui8>
// L4Q: %[[PACKED:.*]] = onnx.Reshape %[[LOW]], %{{.*}} -> tensor<16x12xui8>
// L4Q: %[[HALF2:.*]] = onnx.Constant {value = dense<4.000000e+00> : tensor<f32>}
// L4Q: %[[RATIO:.*]] = onnx.Div %[[BETA]], %[[S]]
// L4Q: %[[ZEROS:.*]] = onnx.Sub %[[HALF2]], %[[RATIO]]
// L4Q: qaf.qlinear %{{.*}}, %[[PACKED]], %[[S]], %[[ZEROS]] {format = #qaf.qformat<bits = 3, group_size = 16, scheme = sym>}
// L4Q-NOT: qaf.l4q_linear
// L4Q: return

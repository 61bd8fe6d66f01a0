// Adapter attachment: what each method inserts, with its zero-initialised
// output-side factor; weights are random blobs appended here.
// RUN: %python %S/Inputs/append_blobs.py %s > %t.mlir
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=lota rank=8" | FileCheck %s --check-prefix=LOTA
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=lora rank=4 alpha=8" | FileCheck %s --check-prefix=LORA
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=qalora rank=4 alpha=8" | FileCheck %s --check-prefix=QALORA
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=qahira repeat-out=2 alpha=2" | FileCheck %s --check-prefix=QAHIRA
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=qbara rank=4 pool=2 alpha=8" | FileCheck %s --check-prefix=QBARA
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=l4q rank=4 bits=4 group-size=32 include=float" | FileCheck %s --check-prefix=L4Q
// RUN: qaf-opt %t.mlir --qaf-loftq-init="rank=4 iters=2 group-size=32 include=float" | FileCheck %s --check-prefix=LOFTQ
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=dora" 2>&1 | FileCheck %s --check-prefix=METHOD
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lota rank=8 omega=8" 2>&1 | FileCheck %s --check-prefix=OMEGA
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=qbara pool=3" 2>&1 | FileCheck %s --check-prefix=POOL
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lora include=nothing" 2>&1 | FileCheck %s --check-prefix=NONE
// RUN: not qaf-opt %t.mlir --qaf-loftq-init="rank=40 group-size=32 include=float" 2>&1 | FileCheck %s --check-prefix=RANK
// Option values out of range are errors naming the option and the value.
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lora alpha=inf" 2>&1 | FileCheck %s --check-prefix=ALPHAINF
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lora alpha=nan" 2>&1 | FileCheck %s --check-prefix=ALPHANAN
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lora alpha=0" 2>&1 | FileCheck %s --check-prefix=ALPHAZERO
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lota rank=8 omega=-1" 2>&1 | FileCheck %s --check-prefix=OMEGANEG
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lota rank=8 omega=nan" 2>&1 | FileCheck %s --check-prefix=OMEGANAN
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lota rank=0" 2>&1 | FileCheck %s --check-prefix=RANKZERO
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lota rank=1000" 2>&1 | FileCheck %s --check-prefix=LOTARANK
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lora rank=33" 2>&1 | FileCheck %s --check-prefix=LORARANK
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=qbara pool=0" 2>&1 | FileCheck %s --check-prefix=POOLZERO
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=qahira repeat-out=-2" 2>&1 | FileCheck %s --check-prefix=REPEATNEG
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=l4q rank=20 group-size=32 include=float" 2>&1 | FileCheck %s --check-prefix=L4QRANK
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=l4q group-size=0 include=float" 2>&1 | FileCheck %s --check-prefix=L4QGROUP
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=l4q include=nothing" -o /dev/null 2>&1 | FileCheck %s --check-prefix=L4QNONE
// RUN: not qaf-opt %t.mlir --qaf-loftq-init="alpha=-inf include=float" 2>&1 | FileCheck %s --check-prefix=LOFTQALPHA
// RUN: not qaf-opt %t.mlir --qaf-loftq-init="iters=0 include=float" 2>&1 | FileCheck %s --check-prefix=LOFTQITERS
// RUN: not qaf-opt %t.mlir --qaf-loftq-init="bits=6 include=float" 2>&1 | FileCheck %s --check-prefix=LOFTQBITS
// RUN: qaf-opt %t.mlir --qaf-loftq-init="include=nothing" -o /dev/null 2>&1 | FileCheck %s --check-prefix=LOFTQNONE

// LOTA: %[[A:.*]] = onnx.Constant {value = dense_resource<w.lota_A> : tensor<8x64xi8>}
// LOTA: %[[B:.*]] = onnx.Constant {value = dense_resource<w.lota_B> : tensor<32x8xi8>}
// LOTA: qaf.lota_linear %arg0, %{{.*}}, %{{.*}}, %{{.*}}, %[[A]], %[[B]] {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>, omega = 6.000000e+00 : f64}
// LOTA-NOT: qaf.qlinear

// LORA-DAG: dense_resource<w.lora_A> : tensor<4x64xf32>
// LORA-DAG: dense_resource<w.lora_B> : tensor<32x4xf32>
// LORA: %[[D:.*]] = qaf.lora %arg0, %{{.*}}, %{{.*}} {scale = 2.000000e+00 : f64}
// LORA: %[[Y:.*]] = qaf.qlinear
// LORA: %[[S:.*]] = onnx.Add %[[Y]], %[[D]]
// LORA: onnx.Relu %[[S]]

// QALORA: qaf.qalora %arg0, %{{.*}}, %{{.*}} {group_size = 32 : i64, scale = 2.000000e+00 : f64} : (tensor<?x64xf32>, tensor<4x2xf32>, tensor<32x4xf32>) -> tensor<?x32xf32>
// QAHIRA: qaf.qahira %arg0, %{{.*}} {alpha = 2.000000e+00 : f64, group_size = 32 : i64, repeat_out = 2 : i64} : (tensor<?x64xf32>, tensor<16x2xf32>) -> tensor<?x32xf32>
// QBARA: qaf.qbara %arg0, %{{.*}}, %{{.*}} {pool = 2 : i64, scale = 2.000000e+00 : f64} : (tensor<?x64xf32>, tensor<8x32xf32>, tensor<16x8xf32>) -> tensor<?x32xf32>

// L4Q: qaf.l4q_linear %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {alpha = 4.000000e+00 : f64, bits = 4 : i64, group_size = 32 : i64} : (tensor<?x32xf32>, tensor<32x16xf32>, tensor<4x32xf32>, tensor<16x4xf32>, tensor<16x1xf32>, tensor<16x1xf32>) -> tensor<?x16xf32>

// LoftQ: an NF4 base plus a LoRA with scale alpha / rank.
// LOFTQ: %[[BASE:.*]] = qaf.qlinear {{.*}} {format = #qaf.qformat<bits = 4, group_size = 32, scheme = nf>}
// LOFTQ: %[[DELTA:.*]] = qaf.lora %{{.*}}, %{{.*}}, %{{.*}} {scale = 4.000000e+00 : f64} : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<16x4xf32>)
// LOFTQ: onnx.Add %[[BASE]], %[[DELTA]]

// METHOD: error: qaf-attach-adapters: unknown method 'dora' (lota, lora, qalora, qahira, qbara or l4q)
// OMEGA: error: 'qaf.qlinear' op LoTA-QAF threshold omega 8.000000e+00 must be below the rank 8
// POOL: error: 'qaf.qlinear' op Q-BaRA pool 3 must divide the input dimension 64 and the output dimension 32
// NONE: error: qaf-attach-adapters: no qaf.qlinear layer to adapt
// ALPHAINF: error: qaf-attach-adapters: alpha=inf: must be a finite number above 0
// ALPHANAN: error: qaf-attach-adapters: alpha=nan: must be a finite number above 0
// ALPHAZERO: error: qaf-attach-adapters: alpha=0: must be a finite number above 0
// OMEGANEG: error: qaf-attach-adapters: omega=-1: must be a finite number, 0 or above
// OMEGANAN: error: qaf-attach-adapters: omega=nan: must be a finite number, 0 or above
// RANKZERO: error: qaf-attach-adapters: rank=0: must be at least 1
// LOTARANK: error: 'qaf.qlinear' op cannot take an adapter of rank 1000: it exceeds min(32, 64) of weight 'w'
// LORARANK: error: 'qaf.qlinear' op cannot take an adapter of rank 33: it exceeds min(32, 64) of weight 'w'
// POOLZERO: error: qaf-attach-adapters: pool=0: must be at least 1
// REPEATNEG: error: qaf-attach-adapters: repeat-out=-2: must be at least 1
// L4QRANK: error: cannot attach L4Q to weight 'float.weight': rank 20 exceeds min(16, 32)
// L4QGROUP: error: qaf-attach-adapters: group-size=0: must be at least 1
// L4QNONE: warning: qaf-attach-adapters: no linear layer matches (include='nothing', exclude=''): the model is unchanged
// LOFTQALPHA: error: qaf-loftq-init: alpha=-inf: must be a finite number above 0
// LOFTQITERS: error: qaf-loftq-init: iters=0: must be at least 1
// LOFTQBITS: error: qaf-loftq-init: bits=6 group-size=64: NormalFloat needs 2 or 4 bits, not 6
// LOFTQNONE: warning: qaf-loftq-init: no linear layer matches (include='nothing', exclude=''): the model is unchanged
// RANK: error: cannot initialise weight 'float.weight' (32 x 16) with LoftQ: rank 40 exceeds min(16, 32)

func.func @main_graph(%x: tensor<?x64xf32>) -> tensor<?x16xf32> {
  %c = onnx.Constant {value = dense_resource<w.qcodes> : tensor<32x32xui8>} : tensor<32x32xui8> loc("w.qcodes")
  %s = onnx.Constant {value = dense_resource<w.scales> : tensor<32x2xf32>} : tensor<32x2xf32> loc("w.scales")
  %z = onnx.Constant {value = dense<7.0> : tensor<32x2xf32>} : tensor<32x2xf32>
  %f = onnx.Constant {value = dense_resource<float.weight> : tensor<32x16xf32>} : tensor<32x16xf32> loc("float.weight")
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<32x32xui8>, tensor<32x2xf32>, tensor<32x2xf32>) -> tensor<?x32xf32>
  %r = onnx.Relu %y : (tensor<?x32xf32>) -> tensor<?x32xf32>
  %o = onnx.MatMul %r, %f : (tensor<?x32xf32>, tensor<32x16xf32>) -> tensor<?x16xf32>
  return %o : tensor<?x16xf32>
}

// RUN: qaf-compile %s --compile-to=loops -o - | FileCheck %s
// RUN: qaf-compile %s --compile-to=linalg -o %t.mlir
// RUN: FileCheck %s --check-prefix=LINALG < %t.mlir
// RUN: qaf-compile %t.mlir --compile-to=loops -o - | FileCheck %s
// RUN: not qaf-compile %t.mlir --compile-to=outlined -o %t.x 2>&1 | FileCheck %s --check-prefix=PHASE

// On the CPU, the qaf.kernel.qlinear ops the shared lowering emits for
// quantized layers (qaf.qlinear at 2/3/4/8 bits and LoTA-QAF's, with its
// int8 moves) are bufferized and become calls of the qaf_qlinear kernel.

// CHECK: func.func private @qaf_qlinear(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i32)
// CHECK-LABEL: func.func @infer
// Plain qlinear: no moves (address and stride 0), bits 4, group 32.
// CHECK: call @qaf_qlinear(%{{.*}}, %c8_i64, %c64_i64, %{{.*}}, %c64_i64, %{{.*}}, %c32_i64, %{{.*}}, %c2_i64, %{{.*}}, %c2_i64, %c0_i64, %c0_i64, %c0_i64, %{{.*}}, %c8_i64, %c4_i64, %c32_i64, %c0_i32)
// LoTA: the moves buffer, rows of 64.
// CHECK: call @qaf_qlinear(%{{.*}}, %c8_i64, %c64_i64, %{{.*}}, %c64_i64, %{{.*}}, %c32_i64, %{{.*}}, %c2_i64, %{{.*}}, %c2_i64, %[[MOVES:[0-9]+]], %c64_i64, %c0_i64, %{{.*}}, %c8_i64, %c4_i64, %c32_i64, %c0_i32)
// 3-bit codes: rows of 24 bytes, bits 3.
// CHECK: call @qaf_qlinear(%{{.*}}, %c8_i64, %c64_i64, %{{.*}}, %c64_i64, %{{.*}}, %c24_i64, %{{.*}}, %c2_i64, %{{.*}}, %c2_i64, %c0_i64, %c0_i64, %c0_i64, %{{.*}}, %c8_i64, %c3_i64, %c32_i64, %c0_i32)
// CHECK-NOT: call @qaf_qlinear(

// The linalg phase holds the kernel ops, and resumes from there: the
// kernel ops are the lowering's output, not graph ops still to lower.
// LINALG-COUNT-3: qaf.kernel.qlinear bits(
// LINALG-NOT: qaf.kernel.qlinear
// PHASE: error: the input is already at phase 'linalg'; it cannot stop at the earlier phase 'outlined'
module {
  // Weights as inputs: a splat constant would be folded into the loops.
  func.func @main_graph(%x: tensor<?x64xf32>, %c: tensor<8x32xui8>, %c3: tensor<8x24xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>, %a: tensor<4x64xi8>, %b: tensor<8x4xi8>) -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) {
    %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<8x32xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
    %l = qaf.lota_linear %x, %c, %s, %z, %a, %b {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>, omega = 3.0 : f64} : (tensor<?x64xf32>, tensor<8x32xui8>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<4x64xi8>, tensor<8x4xi8>) -> tensor<?x8xf32>
    %y3 = qaf.qlinear %x, %c3, %s, %z {format = #qaf.qformat<bits = 3, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<8x24xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
    return %y, %l, %y3 : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>
  }
}

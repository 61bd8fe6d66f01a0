// RUN: qaf-opt --qaf-convert-onnx-to-linalg --qaf-fuse-elementwise --canonicalize --cse %s | FileCheck %s
// RUN: qaf-compile %s --compile-to=loops -o - | FileCheck %s --check-prefix=CALL

// Layers whose zero points are their scales (CSE merges equal constants):
// qaf-fuse-elementwise (in the CPU pipeline) rebuilds a linalg.generic that
// reads one value twice, without the duplicate, as the f16 layer's
// reference contraction shows. When the kernel choice was an attribute on
// such a contraction, the rebuilt one no longer matched the kernel's
// operands and the layer silently ran as loops. As an op it cannot be
// rebuilt away: the f32 layer stays a qaf.kernel.qlinear, and on the CPU a
// call of qaf_qlinear reading the one buffer as scales and zero points.

// CHECK-LABEL: func.func @main_graph
// CHECK-SAME: (%[[X:[^:]*]]: tensor<?x64xf32>, %[[CODES:[^:]*]]: tensor<8x32xi8>, %[[S:[^:]*]]: tensor<8x2xf32>, %[[X16:[^:]*]]: tensor<?x64xf16>, %{{[^:]*}}: tensor<8x32xi8>, %[[S16:[^:]*]]: tensor<8x2xf16>)
// CHECK: qaf.kernel.qlinear bits(4) group_size(32) input(%[[X]] : tensor<?x64xf32>) scales(%[[S]] : tensor<8x2xf32>) zero_points(%[[S]] : tensor<8x2xf32>) codes(%[[CODES]] : tensor<8x32xi8>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X16]], %[[S16]], %{{.*}} : tensor<?x64xf16>, tensor<8x2xf16>, tensor<8x32xi8>)

// CALL-LABEL: func.func @infer
// CALL-SAME: (%{{[^:]*}}: memref<?x64xf32>, %{{[^:]*}}: memref<8x32xi8>, %[[S:[^:]*]]: memref<8x2xf32>
// CALL: %[[SP:.*]] = memref.extract_aligned_pointer_as_index %[[S]]
// CALL: %[[SA:.*]] = arith.index_cast %[[SP]]
// CALL: %[[ZP:.*]] = memref.extract_aligned_pointer_as_index %[[S]]
// CALL: %[[ZA:.*]] = arith.index_cast %[[ZP]]
// CALL: call @qaf_qlinear(%{{.*}}, %c8_i64, %c64_i64, %{{.*}}, %c64_i64, %{{.*}}, %c32_i64, %[[SA]], %c2_i64, %[[ZA]], %c2_i64, %c0_i64, %c0_i64, %c0_i64, %{{.*}}, %c8_i64, %c4_i64, %c32_i64, %c0_i32)
// CALL-NOT: call @qaf_qlinear(
module {
  func.func @main_graph(%x: tensor<?x64xf32>, %c: tensor<8x32xui8>, %s: tensor<8x2xf32>, %x16: tensor<?x64xf16>, %c16: tensor<8x32xui8>, %s16: tensor<8x2xf16>) -> (tensor<?x8xf32>, tensor<?x8xf16>) {
    %y = qaf.qlinear %x, %c, %s, %s {format = #qaf.qformat<bits = 4, group_size = 32, scheme = sym>} : (tensor<?x64xf32>, tensor<8x32xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
    %y16 = qaf.qlinear %x16, %c16, %s16, %s16 {format = #qaf.qformat<bits = 4, group_size = 32, scheme = sym>} : (tensor<?x64xf16>, tensor<8x32xui8>, tensor<8x2xf16>, tensor<8x2xf16>) -> tensor<?x8xf16>
    return %y, %y16 : tensor<?x8xf32>, tensor<?x8xf16>
  }
}

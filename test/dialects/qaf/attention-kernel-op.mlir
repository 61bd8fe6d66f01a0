// RUN: qaf-opt %s | qaf-opt | FileCheck %s

// qaf.kernel.attention prints and parses back on tensors (a result) and on
// buffers (none), with and without a bias and zero_nan_rows; grouped
// key/value heads, a
// broadcast key batch and bias heads of 1 are admitted.

// CHECK-LABEL: func.func @on_tensors
// CHECK: %{{.*}} = qaf.kernel.attention scale(2.500000e-01) ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>, tensor<?x1x?x?xf32>) outs(%{{.*}} : tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32>
// CHECK: %{{.*}} = qaf.kernel.attention scale(1.000000e+00) zero_nan_rows ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x4x3x16xf32>, tensor<1x1x5x16xf32>, tensor<1x1x5x16xf32>) outs(%{{.*}} : tensor<2x4x3x16xf32>) -> tensor<2x4x3x16xf32>
func.func @on_tensors(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x8xf32>, %mask: tensor<?x1x?x?xf32>, %init: tensor<?x4x?x8xf32>,
                      %q2: tensor<2x4x3x16xf32>, %k2: tensor<1x1x5x16xf32>, %init2: tensor<2x4x3x16xf32>) -> (tensor<?x4x?x8xf32>, tensor<2x4x3x16xf32>) {
  %o = qaf.kernel.attention scale(0.25) ins(%q, %k, %v, %mask : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>, tensor<?x1x?x?xf32>) outs(%init : tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32>
  %o2 = qaf.kernel.attention scale(1.0) zero_nan_rows ins(%q2, %k2, %k2 : tensor<2x4x3x16xf32>, tensor<1x1x5x16xf32>, tensor<1x1x5x16xf32>) outs(%init2 : tensor<2x4x3x16xf32>) -> tensor<2x4x3x16xf32>
  return %o, %o2 : tensor<?x4x?x8xf32>, tensor<2x4x3x16xf32>
}

// CHECK-LABEL: func.func @on_buffers
// CHECK: qaf.kernel.attention scale(1.250000e-01) ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<1x9x1x64xf32>, memref<1x3x?x64xf32, strided<[?, ?, 64, 1]>>, memref<1x3x?x64xf32>) outs(%{{.*}} : memref<1x9x1x64xf32>){{$}}
func.func @on_buffers(%q: memref<1x9x1x64xf32>, %k: memref<1x3x?x64xf32, strided<[?, ?, 64, 1]>>, %v: memref<1x3x?x64xf32>, %o: memref<1x9x1x64xf32>) {
  qaf.kernel.attention scale(0.125) ins(%q, %k, %v : memref<1x9x1x64xf32>, memref<1x3x?x64xf32, strided<[?, ?, 64, 1]>>, memref<1x3x?x64xf32>) outs(%o : memref<1x9x1x64xf32>)
  return
}

// RUN: qaf-opt %s --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" | FileCheck %s

// qaf.kernel.qlinear bufferizes in place into its destination, as linalg
// ops do. The kernel takes one row stride per operand, so an operand whose
// rows are not contiguous is copied into a fresh buffer first, and the
// destination's copy is written back after.

// CHECK-LABEL: func.func @in_place
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x64xf32>, %[[S:[^:]*]]: memref<8x2xf32>, %[[C:[^:]*]]: memref<8x32xi8>)
// CHECK: %[[Y:.*]] = memref.alloc(%{{.*}}) {{.*}} : memref<?x8xf32>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[Y]] : memref<?x8xf32>)
// CHECK-NOT: memref.copy
// CHECK: qaf.kernel.qlinear bits(4) group_size(32) input(%[[X]] : memref<?x64xf32>) scales(%[[S]] : memref<8x2xf32>) zero_points(%[[S]] : memref<8x2xf32>) codes(%[[C]] : memref<8x32xi8>) outs(%[[Y]] : memref<?x8xf32>){{$}}
// CHECK-NOT: memref.copy
// CHECK: return %[[Y]]
func.func @in_place(%x: tensor<?x64xf32>, %s: tensor<8x2xf32>, %c: tensor<8x32xi8>) -> tensor<?x8xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %m = tensor.dim %x, %c0 : tensor<?x64xf32>
  %empty = tensor.empty(%m) : tensor<?x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x8xf32>) -> tensor<?x8xf32>
  %y = qaf.kernel.qlinear bits(4) group_size(32) input(%x : tensor<?x64xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x32xi8>) outs(%init : tensor<?x8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// Every other column of x, into every other column of out.
// CHECK-LABEL: func.func @strided
// CHECK: %[[XVIEW:.*]] = memref.subview %{{.*}} : memref<2x128xf32> to memref<2x64xf32, strided<[128, 2]>>
// CHECK: %[[OUTVIEW:.*]] = memref.subview %{{.*}} : memref<2x16xf32> to memref<2x8xf32, strided<[16, 2], offset: 1>>
// CHECK: %[[XROWS:.*]] = memref.alloc() {{.*}} : memref<2x64xf32>
// CHECK: memref.copy %[[XVIEW]], %[[XROWS]]
// CHECK: %[[YROWS:.*]] = memref.alloc() {{.*}} : memref<2x8xf32>
// CHECK: memref.copy %[[OUTVIEW]], %[[YROWS]]
// CHECK: qaf.kernel.qlinear {{.*}} input(%[[XROWS]] : memref<2x64xf32>) {{.*}} outs(%[[YROWS]] : memref<2x8xf32>)
// CHECK: memref.copy %[[YROWS]], %[[OUTVIEW]]
func.func @strided(%wide: tensor<2x128xf32>, %s: tensor<8x2xf32>, %c: tensor<8x32xi8>, %out: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %x = tensor.extract_slice %wide[0, 0] [2, 64] [1, 2] : tensor<2x128xf32> to tensor<2x64xf32>
  %init = tensor.extract_slice %out[0, 1] [2, 8] [1, 2] : tensor<2x16xf32> to tensor<2x8xf32>
  %y = qaf.kernel.qlinear bits(4) group_size(32) input(%x : tensor<2x64xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x32xi8>) outs(%init : tensor<2x8xf32>) -> tensor<2x8xf32>
  %r = tensor.insert_slice %y into %out[0, 1] [2, 8] [1, 2] : tensor<2x8xf32> into tensor<2x16xf32>
  return %r : tensor<2x16xf32>
}

// RUN: qaf-opt %s --pass-pipeline='builtin.module(func.func(qaf-fuse-elementwise))' | FileCheck %s

#id = affine_map<(d0, d1) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

// An element-wise producer fuses into its element-wise consumer: -x * x
// becomes one loop.
// CHECK-LABEL: func.func @chain(
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK-NEXT: %[[R:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<4x8xf32>) outs(%[[E]] : tensor<4x8xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[NEG:.*]] = arith.negf %[[IN]] : f32
// CHECK-NEXT: %[[MUL:.*]] = arith.mulf %[[NEG]], %[[IN]] : f32
// CHECK-NEXT: linalg.yield %[[MUL]] : f32
// CHECK-NEXT: } -> tensor<4x8xf32>
// CHECK-NEXT: return %[[R]]
func.func @chain(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<4x8xf32>
  %b = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%a, %x : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %m = arith.mulf %in, %in2 : f32
    linalg.yield %m : f32
  } -> tensor<4x8xf32>
  return %b : tensor<4x8xf32>
}

// A projection on collapsed activations ([batch*seq, k] x [k, n]) stays a
// 2-D linalg.matmul between its reshapes, and the element-wise op after it
// is not fused into it: upstream's linalg-fuse-elementwise-ops would push
// the reshapes through and leave a 3-D generic contraction that no GEMM
// kernel recognises.
// CHECK-LABEL: func.func @projection(
// CHECK: tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<2x3x8xf32> into tensor<6x8xf32>
// CHECK: %[[MM:.*]] = linalg.matmul ins(%{{.*}}, %arg1 : tensor<6x8xf32>, tensor<8x16xf32>)
// CHECK-NEXT: %[[R:.*]] = tensor.expand_shape %[[MM]] {{\[}}[0, 1], [2]]
// CHECK: linalg.generic {{.*}} ins(%[[R]] : tensor<2x3x16xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.maximumf
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @projection(%x: tensor<2x3x8xf32>, %w: tensor<8x16xf32>) -> tensor<2x3x16xf32> {
  %c = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x3x8xf32> into tensor<6x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<6x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<6x16xf32>) -> tensor<6x16xf32>
  %m = linalg.matmul ins(%c, %w : tensor<6x8xf32>, tensor<8x16xf32>) outs(%f : tensor<6x16xf32>) -> tensor<6x16xf32>
  %r = tensor.expand_shape %m [[0, 1], [2]] output_shape [2, 3, 16] : tensor<6x16xf32> into tensor<2x3x16xf32>
  %e3 = tensor.empty() : tensor<2x3x16xf32>
  %relu = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%r : tensor<2x3x16xf32>) outs(%e3 : tensor<2x3x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = arith.maximumf %in, %zero : f32
    linalg.yield %v : f32
  } -> tensor<2x3x16xf32>
  return %relu : tensor<2x3x16xf32>
}

#id1 = affine_map<(d0) -> (d0)>
#zero1 = affine_map<(d0) -> (0)>

// A broadcast view (the onnx lowering's slice of the result's size, stride 0
// on a run-time 1) between two element-wise generics moves up through the
// producer onto its inputs, and the two then fuse into one loop over the
// view's size. The producer's input indexed by the loop dim gets the view's
// size and stride; the one read at index 0 keeps its own.
// CHECK-LABEL: func.func @view_moves_up(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?xf32>, %[[C:[^:]*]]: tensor<1xf32>, %[[Y:[^:]*]]: tensor<?xf32>, %[[N:[^:]*]]: index, %[[S:[^:]*]]: index)
// CHECK: %[[XV:.*]] = tensor.extract_slice %[[X]][0] [%[[N]]] [%[[S]]] : tensor<?xf32> to tensor<?xf32>
// CHECK-NOT: tensor.extract_slice
// CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%[[XV]], %[[C]], %[[Y]] : tensor<?xf32>, tensor<1xf32>, tensor<?xf32>)
// CHECK: arith.negf
// CHECK: arith.addf
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]
func.func @view_moves_up(%x: tensor<?xf32>, %c: tensor<1xf32>, %y: tensor<?xf32>, %n: index, %stride: index) -> tensor<?xf32> {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %x, %c0 : tensor<?xf32>
  %e = tensor.empty(%d) : tensor<?xf32>
  %a = linalg.generic {indexing_maps = [#id1, #zero1, #id1], iterator_types = ["parallel"]} ins(%x, %c : tensor<?xf32>, tensor<1xf32>) outs(%e : tensor<?xf32>) {
  ^bb0(%in: f32, %k: f32, %out: f32):
    %neg = arith.negf %in : f32
    %sum = arith.addf %neg, %k : f32
    linalg.yield %sum : f32
  } -> tensor<?xf32>
  %view = tensor.extract_slice %a[0] [%n] [%stride] : tensor<?xf32> to tensor<?xf32>
  %e2 = tensor.empty(%n) : tensor<?xf32>
  %b = linalg.generic {indexing_maps = [#id1, #id1, #id1], iterator_types = ["parallel"]} ins(%view, %y : tensor<?xf32>, tensor<?xf32>) outs(%e2 : tensor<?xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %m = arith.mulf %in, %in2 : f32
    linalg.yield %m : f32
  } -> tensor<?xf32>
  return %b : tensor<?xf32>
}

// A view whose size is the producer's own and whose stride compares two
// equal sizes takes the whole tensor: it folds, and the generics fuse.
// CHECK-LABEL: func.func @whole_view_folds(
// CHECK-NOT: tensor.extract_slice
// CHECK: linalg.generic
// CHECK: arith.negf
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @whole_view_folds(%x: tensor<?xf32>, %y: tensor<?xf32>) -> tensor<?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d = tensor.dim %x, %c0 : tensor<?xf32>
  %e = tensor.empty(%d) : tensor<?xf32>
  %a = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]} ins(%x : tensor<?xf32>) outs(%e : tensor<?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %neg = arith.negf %in : f32
    linalg.yield %neg : f32
  } -> tensor<?xf32>
  %da = tensor.dim %a, %c0 : tensor<?xf32>
  %same = arith.cmpi eq, %da, %d : index
  %stride = arith.select %same, %c1, %c0 : index
  %view = tensor.extract_slice %a[0] [%d] [%stride] : tensor<?xf32> to tensor<?xf32>
  %b = linalg.generic {indexing_maps = [#id1, #id1, #id1], iterator_types = ["parallel"]} ins(%view, %y : tensor<?xf32>, tensor<?xf32>) outs(%e : tensor<?xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %m = arith.mulf %in, %in2 : f32
    linalg.yield %m : f32
  } -> tensor<?xf32>
  return %b : tensor<?xf32>
}

// A producer with another user is computed once, whole: the view stays on
// its result (as fusion leaves such a producer alone).
// CHECK-LABEL: func.func @shared_producer_keeps_view(
// CHECK: %[[A:.*]] = linalg.generic
// CHECK: arith.negf
// CHECK: %[[V:.*]] = tensor.extract_slice %[[A]][0] [%{{.*}}] [%{{.*}}]
// CHECK: linalg.generic {{.*}} ins(%[[V]], %{{.*}} : tensor<?xf32>, tensor<?xf32>)
func.func @shared_producer_keeps_view(%x: tensor<?xf32>, %y: tensor<?xf32>, %n: index, %stride: index) -> (tensor<?xf32>, tensor<?xf32>) {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %x, %c0 : tensor<?xf32>
  %e = tensor.empty(%d) : tensor<?xf32>
  %a = linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]} ins(%x : tensor<?xf32>) outs(%e : tensor<?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %neg = arith.negf %in : f32
    linalg.yield %neg : f32
  } -> tensor<?xf32>
  %view = tensor.extract_slice %a[0] [%n] [%stride] : tensor<?xf32> to tensor<?xf32>
  %e2 = tensor.empty(%n) : tensor<?xf32>
  %b = linalg.generic {indexing_maps = [#id1, #id1, #id1], iterator_types = ["parallel"]} ins(%view, %y : tensor<?xf32>, tensor<?xf32>) outs(%e2 : tensor<?xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %m = arith.mulf %in, %in2 : f32
    linalg.yield %m : f32
  } -> tensor<?xf32>
  return %a, %b : tensor<?xf32>, tensor<?xf32>
}

// RMSNorm's sum of squares: the element-wise square of one input fuses into
// the reduction of one operand, so the squares are never stored; it stays a
// reduction of one operand. A product of two inputs feeding a reduction (a
// contraction, the matmul kernels' business) is left apart.
#rowmap = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @sum_of_squares(
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%arg0 : tensor<4x8xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[SQ:.*]] = arith.mulf %[[IN]], %[[IN]] : f32
// CHECK-NEXT: %[[ADD:.*]] = arith.addf %[[ACC]], %[[SQ]] : f32
// CHECK-NEXT: linalg.yield %[[ADD]]
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<4x8xf32>, tensor<4x8xf32>)
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]}
// CHECK: return %[[SUM]]
func.func @sum_of_squares(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %sq = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %in : f32
    linalg.yield %m : f32
  } -> tensor<4x8xf32>
  %r = tensor.empty() : tensor<4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%r : tensor<4xf32>) -> tensor<4xf32>
  %sum = linalg.generic {indexing_maps = [#id, #rowmap], iterator_types = ["parallel", "reduction"]} ins(%sq : tensor<4x8xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = arith.addf %acc, %in : f32
    linalg.yield %a : f32
  } -> tensor<4xf32>
  %prod = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %y : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %m = arith.mulf %in, %in2 : f32
    linalg.yield %m : f32
  } -> tensor<4x8xf32>
  %dot = linalg.generic {indexing_maps = [#id, #rowmap], iterator_types = ["parallel", "reduction"]} ins(%prod : tensor<4x8xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = arith.addf %acc, %in : f32
    linalg.yield %a : f32
  } -> tensor<4xf32>
  return %sum, %dot : tensor<4xf32>, tensor<4xf32>
}

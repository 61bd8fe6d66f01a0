// RUN: qaf-opt %s --pass-pipeline='builtin.module(func.func(qaf-recognize-matmuls))' | FileCheck %s

// CHECK-DAG: #[[$MK:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$KM:.*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[$KN:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[$NK:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$MN:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$BMK:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[$BNK:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG: #[[$BMN:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// dY·Wᵀ through a copy of Wᵀ (a tied LM head's gradient): the matmul reads
// W [N, K] through a transposed map, and the copy goes.
// CHECK-LABEL: func.func @transposed_b(
// CHECK-SAME: %[[DY:.*]]: tensor<?x8xf32>, %[[W:.*]]: tensor<16x8xf32>
// CHECK-NOT: linalg.transpose
// CHECK: linalg.matmul indexing_maps = [#[[$MK]], #[[$NK]], #[[$MN]]] ins(%[[DY]], %[[W]] : tensor<?x8xf32>, tensor<16x8xf32>)
func.func @transposed_b(%dy: tensor<?x8xf32>, %w: tensor<16x8xf32>, %init: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %e = tensor.empty() : tensor<8x16xf32>
  %wt = linalg.transpose ins(%w : tensor<16x8xf32>) outs(%e : tensor<8x16xf32>) permutation = [1, 0]
  %r = linalg.matmul ins(%dy, %wt : tensor<?x8xf32>, tensor<8x16xf32>) outs(%init : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %r : tensor<?x16xf32>
}

// Xᵀ·dY; then both operands at once, one of them read through a transposed
// map already, which its transpose turns back into a plain one. A transpose
// with another user stays for that user.
// CHECK-LABEL: func.func @transposed_a_and_twice(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<8x?xf32>, %[[B:[a-z0-9]+]]: tensor<8x16xf32>
// CHECK: %[[XT:.*]] = linalg.transpose ins(%[[X]]
// CHECK-NEXT: linalg.matmul indexing_maps = [#[[$KM]], #[[$KN]], #[[$MN]]] ins(%[[X]], %[[B]] :
// CHECK-NEXT: linalg.matmul indexing_maps = [#[[$KM]], #[[$KN]], #[[$MN]]] ins(%[[X]], %[[B]] :
// CHECK-NEXT: return %{{.*}}, %{{.*}}, %[[XT]]
func.func @transposed_a_and_twice(%x: tensor<8x?xf32>, %b: tensor<8x16xf32>, %init: tensor<?x16xf32>, %bt_init: tensor<16x8xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x8xf32>) {
  %c1 = arith.constant 1 : index
  %m = tensor.dim %x, %c1 : tensor<8x?xf32>
  %e = tensor.empty(%m) : tensor<?x8xf32>
  %xt = linalg.transpose ins(%x : tensor<8x?xf32>) outs(%e : tensor<?x8xf32>) permutation = [1, 0]
  %r = linalg.matmul ins(%xt, %b : tensor<?x8xf32>, tensor<8x16xf32>) outs(%init : tensor<?x16xf32>) -> tensor<?x16xf32>
  %bt = linalg.transpose ins(%b : tensor<8x16xf32>) outs(%bt_init : tensor<16x8xf32>) permutation = [1, 0]
  %r2 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%xt, %bt : tensor<?x8xf32>, tensor<16x8xf32>) outs(%init : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %r, %r2, %xt : tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x8xf32>
}

// Attention's Q·Kᵀ: a batch transpose of the last two dims folds; one that
// moves the batch dim does not.
// CHECK-LABEL: func.func @batched(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<4x?x8xf32>, %[[K:[a-z0-9]+]]: tensor<4x?x8xf32>
// CHECK: linalg.batch_matmul indexing_maps = [#[[$BMK]], #[[$BNK]], #[[$BMN]]] ins(%[[Q]], %[[K]] :
// CHECK: %[[MOVED:.*]] = linalg.transpose
// CHECK-SAME: permutation = [1, 0, 2]
// CHECK: linalg.batch_matmul ins(%{{.*}}, %[[MOVED]] :
func.func @batched(%q: tensor<4x?x8xf32>, %k: tensor<4x?x8xf32>, %init: tensor<4x?x?xf32>,
                   %v: tensor<8x4x16xf32>, %init2: tensor<4x?x16xf32>) -> (tensor<4x?x?xf32>, tensor<4x?x16xf32>) {
  %c1 = arith.constant 1 : index
  %n = tensor.dim %k, %c1 : tensor<4x?x8xf32>
  %e = tensor.empty(%n) : tensor<4x8x?xf32>
  %kt = linalg.transpose ins(%k : tensor<4x?x8xf32>) outs(%e : tensor<4x8x?xf32>) permutation = [0, 2, 1]
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32>) outs(%init : tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %vm = linalg.transpose ins(%v : tensor<8x4x16xf32>) outs(%e2 : tensor<4x8x16xf32>) permutation = [1, 0, 2]
  %o = linalg.batch_matmul ins(%q, %vm : tensor<4x?x8xf32>, tensor<4x8x16xf32>) outs(%init2 : tensor<4x?x16xf32>) -> tensor<4x?x16xf32>
  return %s, %o : tensor<4x?x?xf32>, tensor<4x?x16xf32>
}

// A generic multiply-add over (m, n, k) is a matmul, whatever order its loops
// and inputs come in: x·Aᵀ (a LoRA factor), Wᵀ read first, Xᵀ·G, and a batch.
// CHECK-LABEL: func.func @generic_contractions(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x8xf32>, %[[A:[a-z0-9]+]]: tensor<4x8xf32>, %[[G:[a-z0-9]+]]: tensor<?x4xf32>
// CHECK-NOT: linalg.generic
// CHECK: linalg.matmul indexing_maps = [#[[$MK]], #[[$NK]], #[[$MN]]] ins(%[[X]], %[[A]] : tensor<?x8xf32>, tensor<4x8xf32>)
// CHECK: linalg.matmul indexing_maps = [#[[$MK]], #[[$NK]], #[[$MN]]] ins(%[[X]], %[[A]] : tensor<?x8xf32>, tensor<4x8xf32>)
// CHECK: linalg.matmul indexing_maps = [#[[$KM]], #[[$KN]], #[[$MN]]] ins(%[[X]], %[[G]] : tensor<?x8xf32>, tensor<?x4xf32>)
// CHECK: linalg.batch_matmul indexing_maps = [#[[$BMK]], #[[$BNK]], #[[$BMN]]] ins(
func.func @generic_contractions(%x: tensor<?x8xf32>, %a: tensor<4x8xf32>, %g: tensor<?x4xf32>,
                                %h: tensor<?x4xf32>, %ga: tensor<8x4xf32>,
                                %q: tensor<2x?x8xf32>, %k: tensor<2x?x8xf32>, %s: tensor<2x?x?xf32>)
    -> (tensor<?x4xf32>, tensor<?x4xf32>, tensor<8x4xf32>, tensor<2x?x?xf32>) {
  %xa = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>],
                        iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %a : tensor<?x8xf32>, tensor<4x8xf32>) outs(%h : tensor<?x4xf32>) {
  ^bb0(%p: f32, %w: f32, %acc: f32):
    %0 = arith.mulf %p, %w : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<?x4xf32>
  // Loops (k, m, n), the weight listed first, the sum written acc-last.
  %ax = linalg.generic {indexing_maps = [affine_map<(k, m, n) -> (n, k)>, affine_map<(k, m, n) -> (m, k)>, affine_map<(k, m, n) -> (m, n)>],
                        iterator_types = ["reduction", "parallel", "parallel"]}
      ins(%a, %x : tensor<4x8xf32>, tensor<?x8xf32>) outs(%h : tensor<?x4xf32>) {
  ^bb0(%w: f32, %p: f32, %acc: f32):
    %0 = arith.mulf %w, %p : f32
    %1 = arith.addf %0, %acc : f32
    linalg.yield %1 : f32
  } -> tensor<?x4xf32>
  %xg = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>],
                        iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %g : tensor<?x8xf32>, tensor<?x4xf32>) outs(%ga : tensor<8x4xf32>) {
  ^bb0(%p: f32, %w: f32, %acc: f32):
    %0 = arith.mulf %p, %w : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<8x4xf32>
  %qk = linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>],
                        iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<2x?x8xf32>, tensor<2x?x8xf32>) outs(%s : tensor<2x?x?xf32>) {
  ^bb0(%p: f32, %w: f32, %acc: f32):
    %0 = arith.mulf %p, %w : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<2x?x?xf32>
  return %xa, %ax, %xg, %qk : tensor<?x4xf32>, tensor<?x4xf32>, tensor<8x4xf32>, tensor<2x?x?xf32>
}

// Not matmuls, left as they are: a scaled product (the scale would move into
// the sum), an integer one, a sum of products with a broadcast operand, and a
// product with two batch dims.
// CHECK-LABEL: func.func @not_matmuls(
// CHECK-COUNT-4: linalg.generic
// CHECK-NOT: linalg.matmul
// CHECK-NOT: linalg.batch_matmul
func.func @not_matmuls(%x: tensor<?x8xf32>, %a: tensor<4x8xf32>, %h: tensor<?x4xf32>,
                       %xi: tensor<?x8xi32>, %ai: tensor<4x8xi32>, %hi: tensor<?x4xi32>,
                       %v: tensor<8xf32>, %q: tensor<2x3x?x8xf32>, %k: tensor<2x3x?x8xf32>, %s: tensor<2x3x?x?xf32>)
    -> (tensor<?x4xf32>, tensor<?x4xi32>, tensor<?x4xf32>, tensor<2x3x?x?xf32>) {
  %c = arith.constant 2.0 : f32
  %scaled = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>],
                            iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %a : tensor<?x8xf32>, tensor<4x8xf32>) outs(%h : tensor<?x4xf32>) {
  ^bb0(%p: f32, %w: f32, %acc: f32):
    %ws = arith.mulf %w, %c : f32
    %0 = arith.mulf %p, %ws : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<?x4xf32>
  %int = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>],
                         iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%xi, %ai : tensor<?x8xi32>, tensor<4x8xi32>) outs(%hi : tensor<?x4xi32>) {
  ^bb0(%p: i32, %w: i32, %acc: i32):
    %0 = arith.muli %p, %w : i32
    %1 = arith.addi %acc, %0 : i32
    linalg.yield %1 : i32
  } -> tensor<?x4xi32>
  %bcast = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k)>, affine_map<(m, n, k) -> (m, n)>],
                           iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %v : tensor<?x8xf32>, tensor<8xf32>) outs(%h : tensor<?x4xf32>) {
  ^bb0(%p: f32, %w: f32, %acc: f32):
    %0 = arith.mulf %p, %w : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<?x4xf32>
  %two = linalg.generic {indexing_maps = [affine_map<(b, h, m, n, k) -> (b, h, m, k)>, affine_map<(b, h, m, n, k) -> (b, h, n, k)>, affine_map<(b, h, m, n, k) -> (b, h, m, n)>],
                         iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<2x3x?x8xf32>, tensor<2x3x?x8xf32>) outs(%s : tensor<2x3x?x?xf32>) {
  ^bb0(%p: f32, %w: f32, %acc: f32):
    %0 = arith.mulf %p, %w : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<2x3x?x?xf32>
  return %scaled, %int, %bcast, %two : tensor<?x4xf32>, tensor<?x4xi32>, tensor<?x4xf32>, tensor<2x3x?x?xf32>
}

// RUN: qaf-opt %s --pass-pipeline='builtin.module(qaf-linalg-to-cpu-kernels)' | FileCheck %s

// The kernels are declared once per module.
// CHECK-DAG: func.func private @qaf_sgemm_transposed(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i32)
// CHECK-DAG: func.func private @qaf_sgemm_batched_transposed(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i32)

// An f32 matmul on buffers with contiguous rows becomes
// qaf_sgemm_transposed(M, N, K, A, lda, B, ldb, C, ldc, transposeA = 0,
// transposeB = 0, accumulate = 1): M and N from C's sizes, K from A's, row
// strides from each buffer's strided metadata, addresses from its aligned
// pointer plus its offset in bytes (4 per f32).
// CHECK-LABEL: func.func @matmul(
// CHECK: %{{[a-z_0-9]+}}, %[[AOFF:[a-z_0-9]+]], %[[AS:[a-z_0-9]+]]:2, %[[AST:[a-z_0-9]+]]:2 = memref.extract_strided_metadata %arg0
// CHECK-NEXT: %[[APTR:.*]] = memref.extract_aligned_pointer_as_index %arg0
// CHECK-NEXT: %[[C4:.*]] = arith.constant 4 : index
// CHECK-NEXT: %[[ABYTES:.*]] = arith.muli %[[AOFF]], %[[C4]]
// CHECK-NEXT: %[[AADDR:.*]] = arith.addi %[[APTR]], %[[ABYTES]]
// CHECK-NEXT: %[[A:.*]] = arith.index_cast %[[AADDR]] : index to i64
// CHECK-NEXT: arith.index_cast %[[AS]]#0 : index to i64
// CHECK-NEXT: %[[K:.*]] = arith.index_cast %[[AS]]#1 : index to i64
// CHECK-NEXT: %[[LDA:.*]] = arith.index_cast %[[AST]]#0 : index to i64
// CHECK: %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}:2, %[[BST:[a-z_0-9]+]]:2 = memref.extract_strided_metadata %arg1
// CHECK: %[[B:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[LDB:.*]] = arith.index_cast %[[BST]]#0 : index to i64
// CHECK: %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %[[CS:[a-z_0-9]+]]:2, %[[CST:[a-z_0-9]+]]:2 = memref.extract_strided_metadata %arg2
// CHECK: %[[C:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK-NEXT: %[[M:.*]] = arith.index_cast %[[CS]]#0 : index to i64
// CHECK-NEXT: %[[N:.*]] = arith.index_cast %[[CS]]#1 : index to i64
// CHECK-NEXT: %[[LDC:.*]] = arith.index_cast %[[CST]]#0 : index to i64
// CHECK: %[[TA:.*]] = arith.constant 0 : i64
// CHECK-NEXT: %[[TB:.*]] = arith.constant 0 : i64
// CHECK-NEXT: %[[ACC:.*]] = arith.constant 1 : i32
// CHECK-NEXT: call @qaf_sgemm_transposed(%[[M]], %[[N]], %[[K]], %[[A]], %[[LDA]], %[[B]], %[[LDB]], %[[C]], %[[LDC]], %[[TA]], %[[TB]], %[[ACC]])
// CHECK-NOT: linalg.matmul
// CHECK: return
func.func @matmul(%a: memref<?x8xf32>, %b: memref<8x16xf32>, %c: memref<?x16xf32>) {
  linalg.matmul ins(%a, %b : memref<?x8xf32>, memref<8x16xf32>) outs(%c : memref<?x16xf32>)
  return
}

// Transposing maps are read in place: Aᵀ (A stored [K, M]) sets transposeA
// and takes K from A's first size; Bᵀ (B stored [N, K]) sets transposeB.
// CHECK-LABEL: func.func @transposed(
// CHECK: %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %[[AS:[a-z_0-9]+]]:2, %[[AST:[a-z_0-9]+]]:2 = memref.extract_strided_metadata %arg0
// CHECK: %[[A:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK-NEXT: %[[K:.*]] = arith.index_cast %[[AS]]#0 : index to i64
// CHECK-NEXT: arith.index_cast %[[AS]]#1 : index to i64
// CHECK-NEXT: %[[LDA:.*]] = arith.index_cast %[[AST]]#0 : index to i64
// CHECK: %[[TA:.*]] = arith.constant 1 : i64
// CHECK-NEXT: %[[TB:.*]] = arith.constant 0 : i64
// CHECK-NEXT: %[[ACC:.*]] = arith.constant 1 : i32
// CHECK-NEXT: call @qaf_sgemm_transposed(%{{.*}}, %{{.*}}, %[[K]], %[[A]], %[[LDA]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[TA]], %[[TB]], %[[ACC]])
// CHECK: %[[TA:.*]] = arith.constant 1 : i64
// CHECK-NEXT: %[[TB:.*]] = arith.constant 1 : i64
// CHECK-NEXT: %[[ACC:.*]] = arith.constant 1 : i32
// CHECK-NEXT: call @qaf_sgemm_transposed(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[TA]], %[[TB]], %[[ACC]])
// CHECK: %[[TA:.*]] = arith.constant 0 : i64
// CHECK-NEXT: %[[TB:.*]] = arith.constant 1 : i64
// CHECK-NEXT: %[[ACC:.*]] = arith.constant 1 : i32
// CHECK-NEXT: call @qaf_sgemm_transposed(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[TA]], %[[TB]], %[[ACC]])
// CHECK-NOT: linalg.matmul
func.func @transposed(%at: memref<8x?xf32>, %b: memref<8x16xf32>, %c: memref<?x16xf32>,
                      %bt: memref<16x8xf32>, %a: memref<?x8xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%at, %b : memref<8x?xf32>, memref<8x16xf32>) outs(%c : memref<?x16xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%at, %bt : memref<8x?xf32>, memref<16x8xf32>) outs(%c : memref<?x16xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%a, %bt : memref<?x8xf32>, memref<16x8xf32>) outs(%c : memref<?x16xf32>)
  return
}

// batch_matmul: qaf_sgemm_batched_transposed(batch, M, N, K, A, batch
// stride, lda, B, ..., C, ..., transposeA, transposeB, accumulate), batch,
// M and N from C.
// CHECK-LABEL: func.func @batched(
// CHECK: %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %[[AS:[a-z_0-9]+]]:3, %[[AST:[a-z_0-9]+]]:3 = memref.extract_strided_metadata %arg0
// CHECK: %[[A:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK-NEXT: arith.index_cast %[[AS]]#0
// CHECK-NEXT: arith.index_cast %[[AS]]#1
// CHECK-NEXT: %[[K:.*]] = arith.index_cast %[[AS]]#2
// CHECK-NEXT: %[[ABATCH:.*]] = arith.index_cast %[[AST]]#0
// CHECK-NEXT: %[[LDA:.*]] = arith.index_cast %[[AST]]#1
// CHECK: memref.extract_strided_metadata %arg1
// CHECK: %[[B:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %[[CS:[a-z_0-9]+]]:3, %{{[a-z_0-9]+}}:3 = memref.extract_strided_metadata %arg2
// CHECK: arith.index_cast %{{.*}} : index to i64
// CHECK-NEXT: %[[BATCH:.*]] = arith.index_cast %[[CS]]#0
// CHECK-NEXT: %[[M:.*]] = arith.index_cast %[[CS]]#1
// CHECK-NEXT: %[[N:.*]] = arith.index_cast %[[CS]]#2
// CHECK: call @qaf_sgemm_batched_transposed(%[[BATCH]], %[[M]], %[[N]], %[[K]], %[[A]], %[[ABATCH]], %[[LDA]], %[[B]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK: %[[TA:.*]] = arith.constant 0 : i64
// CHECK-NEXT: %[[TB:.*]] = arith.constant 1 : i64
// CHECK-NEXT: %[[ACC:.*]] = arith.constant 1 : i32
// CHECK-NEXT: call @qaf_sgemm_batched_transposed(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[TA]], %[[TB]], %[[ACC]])
// CHECK-NOT: linalg.batch_matmul
func.func @batched(%a: memref<2x?x8xf32>, %b: memref<2x8x16xf32>, %c: memref<2x?x16xf32>, %bt: memref<2x16x8xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<2x?x8xf32>, memref<2x8x16xf32>) outs(%c : memref<2x?x16xf32>)
  linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>]
    ins(%a, %bt : memref<2x?x8xf32>, memref<2x16x8xf32>) outs(%c : memref<2x?x16xf32>)
  return
}

// Left to the loop lowering: f64, rows that are not contiguous (a
// column-major view), matmuls still on tensors, and a batch_matmul that
// broadcasts B (no batch dim in its map).
// CHECK-LABEL: func.func @left_alone(
// CHECK-NEXT: linalg.matmul ins(%arg0, %arg1 : memref<4x8xf64>, memref<8x16xf64>)
// CHECK-NEXT: linalg.matmul ins(%arg3, %arg4 : memref<4x8xf32, strided<[1, 4]>>, memref<8x16xf32>)
// CHECK-NEXT: linalg.matmul ins(%arg6, %arg7 : tensor<4x8xf32>, tensor<8x16xf32>)
// CHECK-NEXT: linalg.batch_matmul indexing_maps
// CHECK-NOT: call
func.func @left_alone(%a: memref<4x8xf64>, %b: memref<8x16xf64>, %c: memref<4x16xf64>,
                      %s: memref<4x8xf32, strided<[1, 4]>>, %w: memref<8x16xf32>, %o: memref<4x16xf32>,
                      %t: tensor<4x8xf32>, %tw: tensor<8x16xf32>, %to: tensor<4x16xf32>,
                      %ba: memref<2x4x8xf32>, %bw: memref<8x16xf32>, %bc: memref<2x4x16xf32>) -> tensor<4x16xf32> {
  linalg.matmul ins(%a, %b : memref<4x8xf64>, memref<8x16xf64>) outs(%c : memref<4x16xf64>)
  linalg.matmul ins(%s, %w : memref<4x8xf32, strided<[1, 4]>>, memref<8x16xf32>) outs(%o : memref<4x16xf32>)
  %r = linalg.matmul ins(%t, %tw : tensor<4x8xf32>, tensor<8x16xf32>) outs(%to : tensor<4x16xf32>) -> tensor<4x16xf32>
  linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>]
    ins(%ba, %bw : memref<2x4x8xf32>, memref<8x16xf32>) outs(%bc : memref<2x4x16xf32>)
  return %r : tensor<4x16xf32>
}

// A zero fill of exactly the output, with nothing touching memory between
// it and the product (views, metadata and allocations of other buffers may
// stand between), becomes the kernel's overwrite (accumulate = 0) and is
// erased: no pass over the output before the product.
// CHECK-LABEL: func.func @zero_fill_overwrites(
// CHECK-NOT: linalg.fill
// CHECK: %[[ACC:.*]] = arith.constant 0 : i32
// CHECK-NEXT: call @qaf_sgemm_transposed({{.*}}, %[[ACC]])
// CHECK-NOT: linalg.fill
// CHECK: return
func.func @zero_fill_overwrites(%a: memref<?x8xf32>, %b: memref<8x16xf32>, %c: memref<?x16xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<?x16xf32>)
  %other = memref.alloc() : memref<4xf32>
  %view = memref.subview %c[0, 0] [1, 16] [1, 1] : memref<?x16xf32> to memref<16xf32, strided<[1]>>
  linalg.matmul ins(%a, %b : memref<?x8xf32>, memref<8x16xf32>) outs(%c : memref<?x16xf32>)
  memref.dealloc %other : memref<4xf32>
  return
}

// Anything else keeps the fill and accumulates: a read of the filled
// buffer between them, a fill of another value (-0.0 and 1.0: adding to
// them is not overwriting), a fill of another buffer.
// CHECK-LABEL: func.func @fills_that_stay(
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%arg2
// CHECK: memref.copy %arg2
// CHECK: arith.constant 1 : i32
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%arg3
// CHECK: arith.constant 1 : i32
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%arg4
// CHECK: arith.constant 1 : i32
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%arg5
// CHECK: arith.constant 1 : i32
// CHECK: return
func.func @fills_that_stay(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %c: memref<4x16xf32>, %d: memref<4x16xf32>, %e: memref<4x16xf32>, %f: memref<4x16xf32>, %g: memref<4x16xf32>, %h: memref<4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %minusZero = arith.constant -0.0 : f32
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<4x16xf32>)
  memref.copy %c, %h : memref<4x16xf32> to memref<4x16xf32>
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>)
  linalg.fill ins(%minusZero : f32) outs(%d : memref<4x16xf32>)
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%d : memref<4x16xf32>)
  linalg.fill ins(%one : f32) outs(%e : memref<4x16xf32>)
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%e : memref<4x16xf32>)
  linalg.fill ins(%zero : f32) outs(%f : memref<4x16xf32>)
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%g : memref<4x16xf32>)
  return
}

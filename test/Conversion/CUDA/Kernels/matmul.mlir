// RUN: qaf-opt %s -qaf-cuda-kernels | FileCheck %s
// Every architecture with tf32/bf16 mma.sync gets the same kernels.
// RUN: qaf-opt %s -qaf-cuda-kernels="arch=sm_86" | FileCheck %s
// RUN: qaf-opt %s -qaf-cuda-kernels="arch=sm_90a" | FileCheck %s
// RUN: qaf-opt %s -qaf-cuda-kernels="arch=sm_90 precision=bf16" \
// RUN:   | FileCheck %s --check-prefix=BF16

// f32 matmuls on buffers become launches of one tensor-core kernel; each
// operand is passed as a [batch, rows, cols] strided view of its buffer.

// CHECK-LABEL: func.func @plain
// CHECK-SAME: (%[[A:.*]]: memref<?x64xf32>, %[[B:.*]]: memref<64x32xf32>, %[[C:.*]]: memref<?x32xf32>)
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : index
// CHECK: %[[AB:.*]], %[[AO:.*]], %[[AS:.*]]:2, %[[AT:.*]]:2 = memref.extract_strided_metadata %[[A]]
// CHECK: %[[AV:.*]] = memref.reinterpret_cast %[[AB]] to offset: [%[[AO]]], sizes: [%[[ONE]], %[[AS]]#0, %[[AS]]#1], strides: [0, %[[AT]]#0, %[[AT]]#1]
// CHECK: %[[BV:.*]] = memref.reinterpret_cast
// CHECK: %[[CV:.*]] = memref.reinterpret_cast
// CHECK: %[[M:.*]] = memref.dim %[[C]], %c0
// CHECK: %[[ANY:.*]] = arith.cmpi ugt, %[[M]], %c0
// CHECK: scf.if %[[ANY]]
// N = 32 fits one tile: one block along x.
// CHECK: %[[GY:.*]] = arith.ceildivui %[[M]], %c64
// CHECK: gpu.launch_func @qaf_cuda_kernels::@qaf_matmul_tf32 blocks in (%c1{{(_[0-9]+)?}}, %[[GY]], %[[ONE]]) threads in (%c128, %{{.*}}, %{{.*}}) args(%[[AV]] : {{.*}}, %[[BV]] : {{.*}}, %[[CV]] : {{.*}})
// CHECK-NOT: linalg.matmul
// BF16-LABEL: func.func @plain
// BF16: gpu.launch_func @qaf_cuda_kernels::@qaf_matmul_bf16
func.func @plain(%a: memref<?x64xf32>, %b: memref<64x32xf32>, %c: memref<?x32xf32>) {
  linalg.matmul ins(%a, %b : memref<?x64xf32>, memref<64x32xf32>)
                outs(%c : memref<?x32xf32>)
  return
}

// A Gemm with transA and transB (as a gradient's product is lowered): the
// views read A [K, M] and B [N, K] through swapped strides.
// CHECK-LABEL: func.func @transposed
// CHECK-SAME: (%[[A:.*]]: memref<64x?xf32>, %[[B:.*]]: memref<32x64xf32>,
// CHECK: %[[AB:.*]], %[[AO:.*]], %[[AS:.*]]:2, %[[AT:.*]]:2 = memref.extract_strided_metadata %[[A]]
// CHECK: memref.reinterpret_cast %[[AB]] to offset: [%[[AO]]], sizes: [%{{.*}}, %[[AS]]#1, %[[AS]]#0], strides: [0, %[[AT]]#1, %[[AT]]#0]
// CHECK: %[[BB:.*]], %[[BO:.*]], %[[BS:.*]]:2, %[[BT:.*]]:2 = memref.extract_strided_metadata %[[B]]
// CHECK: memref.reinterpret_cast %[[BB]] to offset: [%[[BO]]], sizes: [%{{.*}}, %[[BS]]#1, %[[BS]]#0], strides: [0, %[[BT]]#1, %[[BT]]#0]
// CHECK: gpu.launch_func @qaf_cuda_kernels::@qaf_matmul_tf32
func.func @transposed(%a: memref<64x?xf32>, %b: memref<32x64xf32>, %c: memref<?x32xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>,
                                 affine_map<(m, n, k) -> (n, k)>,
                                 affine_map<(m, n, k) -> (m, n)>]
                ins(%a, %b : memref<64x?xf32>, memref<32x64xf32>)
                outs(%c : memref<?x32xf32>)
  return
}

// A batch of products (attention's QKᵀ and PV): the batch is the grid's z.
// CHECK-LABEL: func.func @batched
// CHECK-DAG: %[[BATCH:.*]] = arith.constant 6 : index
// CHECK: %[[AB:.*]], %[[AO:.*]], %[[AS:.*]]:3, %[[AT:.*]]:3 = memref.extract_strided_metadata
// CHECK: memref.reinterpret_cast %[[AB]] to offset: [%[[AO]]], sizes: [%[[AS]]#0, %[[AS]]#1, %[[AS]]#2], strides: [%[[AT]]#0, %[[AT]]#1, %[[AT]]#2]
// CHECK: gpu.launch_func @qaf_cuda_kernels::@qaf_matmul_tf32 blocks in (%{{.*}}, %{{.*}}, %[[BATCH]])
func.func @batched(%a: memref<6x?x16xf32>, %b: memref<6x16x?xf32>, %c: memref<6x?x?xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<6x?x16xf32>, memref<6x16x?xf32>)
                      outs(%c : memref<6x?x?xf32>)
  return
}

// Other element types and generic contractions are the GPU mapping's.
// CHECK-LABEL: func.func @left_alone
// CHECK: linalg.matmul
// CHECK: linalg.generic
// CHECK-NOT: gpu.launch_func
func.func @left_alone(%a: memref<4x8xf16>, %b: memref<8x4xf16>, %c: memref<4x4xf16>,
                      %x: memref<4x8xf32>, %w: memref<4x8xf32>, %y: memref<4x4xf32>) {
  linalg.matmul ins(%a, %b : memref<4x8xf16>, memref<8x4xf16>)
                outs(%c : memref<4x4xf16>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                   affine_map<(m, n, k) -> (n, k)>,
                                   affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<4x8xf32>, memref<4x8xf32>) outs(%y : memref<4x4xf32>) {
  ^bb0(%xv: f32, %wv: f32, %acc: f32):
    %p = arith.mulf %xv, %wv : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// The kernels module: one instance per kernel and precision, no target
// (the pipeline attaches it); its kernels take the views.
// CHECK: gpu.module @qaf_cuda_kernels {
// CHECK: gpu.func @qaf_matmul_tf32(%{{.*}}: [[VIEW:memref<\?x\?x\?xf32, strided<\[\?, \?, \?\], offset: \?>>]], %{{.*}}: [[VIEW]], %{{.*}}: [[VIEW]])
// CHECK-SAME: workgroup(%{{.*}} : memref<64x20xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x72xf32, #gpu.address_space<workgroup>>)
// CHECK-SAME: kernel
// CHECK-COUNT-16: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<tf32>{{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 8>
// CHECK-NOT: gpu.func
// BF16: gpu.module @qaf_cuda_kernels {
// BF16-COUNT-8: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>{{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 16>

// Every kernel through the GPU lowering to PTX, for both archs and both
// precisions: the tensor-core instructions are there (and not in the
// decode and attention kernels), and ptxas assembles every kernel
// (format=bin).
//
// The lowering the CUDA pipeline runs, with the target it attaches.
// DEFINE: %{sm80} = nvvm-attach-target{chip=sm_80 features=+ptx70 O=3}
// DEFINE: %{sm90} = nvvm-attach-target{chip=sm_90 features=+ptx80 O=3}
// DEFINE: %{lower} = gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm,canonicalize,cse),reconcile-unrealized-casts
// RUN: qaf-opt %s -qaf-cuda-kernels="arch=sm_80 precision=tf32" \
// RUN:   | qaf-opt --pass-pipeline='builtin.module(%{sm80},%{lower},gpu-module-to-binary{format=isa})' \
// RUN:   | FileCheck %s --check-prefixes=PTX,SM80,TF32
// RUN: qaf-opt %s -qaf-cuda-kernels="arch=sm_90 precision=tf32" \
// RUN:   | qaf-opt --pass-pipeline='builtin.module(%{sm90},%{lower},gpu-module-to-binary{format=isa})' \
// RUN:   | FileCheck %s --check-prefixes=PTX,SM90,TF32
// RUN: qaf-opt %s -qaf-cuda-kernels="arch=sm_80 precision=bf16" \
// RUN:   | qaf-opt --pass-pipeline='builtin.module(%{sm80},%{lower},gpu-module-to-binary{format=isa})' \
// RUN:   | FileCheck %s --check-prefixes=PTX,SM80,BF16
// RUN: qaf-opt %s -qaf-cuda-kernels="arch=sm_90 precision=bf16" \
// RUN:   | qaf-opt --pass-pipeline='builtin.module(%{sm90},%{lower},gpu-module-to-binary{format=isa})' \
// RUN:   | FileCheck %s --check-prefixes=PTX,SM90,BF16

// PTX: gpu.binary @qaf_cuda_kernels
// SM80-SAME: .version 7.0\0A.target sm_80
// SM90-SAME: .version 8.0\0A.target sm_90
// The kernels in the order the ops asked for them. A tensor-core kernel
// runs 2 x 4 mma tiles per warp over each step of 16 (two k8 steps in
// tf32, one k16 step in bf16); its operands are rounded to tf32 (not
// truncated) or converted to bf16 first.
// PTX-SAME: .entry qaf_qlinear_[[P:tf32|bf16]](
// TF32-SAME: cvt.rna.tf32.f32
// BF16-SAME: cvt.rn.bf16.f32
// TF32-COUNT-16: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// BF16-COUNT-8: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// The decode kernel uses no tensor core: a butterfly of shuffles.
// PTX-SAME: .entry qaf_qlinear_decode(
// PTX-NOT: mma.sync
// PTX-COUNT-5: shfl.sync.bfly.b32
// PTX-NOT: mma.sync
// PTX-SAME: .entry qaf_qlinear_transposed_[[P]](
// TF32-COUNT-16: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// BF16-COUNT-8: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// The fused attention uses no tensor core either: a warp's dot products
// are a butterfly of shuffles, and one barrier precedes the merge of the
// warps' softmax states (exp is libdevice's, ex2.approx once linked; the
// cubins below show it linked).
// PTX-SAME: .entry qaf_attention(
// PTX-NOT: mma.sync
// PTX-COUNT-5: shfl.sync.bfly.b32
// PTX-NOT: mma.sync
// PTX-SAME: bar.sync
// PTX-NOT: mma.sync
// PTX-SAME: .entry qaf_matmul_[[P]](
// TF32-COUNT-16: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// BF16-COUNT-8: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-NOT: mma.sync

// RUN: %if ptxas %{ qaf-opt %s -qaf-cuda-kernels="arch=sm_80" \
// RUN:   | qaf-opt --pass-pipeline='builtin.module(%{sm80},%{lower},gpu-module-to-binary{format=bin})' \
// RUN:   | FileCheck %s --check-prefix=CUBIN %}
// RUN: %if ptxas %{ qaf-opt %s -qaf-cuda-kernels="arch=sm_90 precision=bf16" \
// RUN:   | qaf-opt --pass-pipeline='builtin.module(%{sm90},%{lower},gpu-module-to-binary{format=bin})' \
// RUN:   | FileCheck %s --check-prefix=CUBIN %}
// CUBIN: gpu.binary @qaf_cuda_kernels {{.*}}#nvvm.target<{{.*}}bin = "\7FELF

func.func @kernels(%a: memref<?x64xf32>, %b: memref<64x32xf32>, %c: memref<?x32xf32>,
                   %x: memref<?x128xf32>, %s: memref<8x2xf32>, %z: memref<8x2xf32>,
                   %codes: memref<8x64xi8>, %y: memref<?x8xf32>,
                   %g: memref<?x8xf32>, %moves: memref<8x128xi8>, %dx: memref<?x128xf32>,
                   %q: memref<?x9x?x64xf32>, %k: memref<?x3x?x64xf32>,
                   %v: memref<?x3x?x64xf32>, %mask: memref<?x1x?x?xf32>,
                   %o: memref<?x9x?x64xf32>) {
  linalg.matmul ins(%a, %b : memref<?x64xf32>, memref<64x32xf32>)
                outs(%c : memref<?x32xf32>)
  qaf.kernel.qlinear bits(4) group_size(64) input(%x : memref<?x128xf32>)
    scales(%s : memref<8x2xf32>) zero_points(%z : memref<8x2xf32>)
    codes(%codes : memref<8x64xi8>) outs(%y : memref<?x8xf32>)
  qaf.kernel.qlinear bits(4) group_size(64) input(%g : memref<?x8xf32>)
    scales(%s : memref<8x2xf32>) zero_points(%z : memref<8x2xf32>)
    moves(%moves : memref<8x128xi8>) codes(%codes : memref<8x64xi8>)
    outs(%dx : memref<?x128xf32>) transpose_weight
  qaf.kernel.attention scale(0.125)
    ins(%q, %k, %v, %mask : memref<?x9x?x64xf32>, memref<?x3x?x64xf32>,
        memref<?x3x?x64xf32>, memref<?x1x?x?xf32>)
    outs(%o : memref<?x9x?x64xf32>)
  return
}

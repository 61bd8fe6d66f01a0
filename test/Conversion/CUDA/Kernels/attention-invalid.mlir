// RUN: not qaf-opt %s -qaf-cuda-kernels 2>&1 | FileCheck %s

// Each lane of the fused kernel holds 4 of a row's elements: head sizes
// above 128 (or unknown) are the decomposition's (the CUDA pipeline keeps
// only the ops the kernel takes, qaf-decompose-kernel-ops'
// keep-attention-head-size).
// CHECK: error: 'qaf.kernel.attention' op qaf-cuda-kernels' fused attention takes static head sizes from 1 to 128, not 'memref<1x2x3x256xf32>': decompose it (qaf-decompose-kernel-ops)
func.func @wide(%q: memref<1x2x3x256xf32>, %k: memref<1x2x5x256xf32>, %o: memref<1x2x3x256xf32>) {
  qaf.kernel.attention scale(1.0)
    ins(%q, %k, %k : memref<1x2x3x256xf32>, memref<1x2x5x256xf32>, memref<1x2x5x256xf32>)
    outs(%o : memref<1x2x3x256xf32>)
  return
}

// The registered pipelines: qaf-lower-to-linalg, shared by every target,
// and qaf-lower-to-cpu, which runs it and goes on to the LLVM dialect. Both
// take typed options: the phases to run between (from, to), the entry
// point's name, and whether exp/tanh/erf become polynomials.

// RUN: qaf-opt %s --qaf-lower-to-linalg | FileCheck %s --check-prefix=LINALG
// RUN: qaf-opt %s --qaf-lower-to-cpu="to=linalg entry=prefill" | FileCheck %s --check-prefix=CPU-LINALG
// RUN: qaf-opt %s --qaf-lower-to-cpu | FileCheck %s --check-prefix=CPU-LLVM
// RUN: qaf-opt %s --qaf-lower-to-cpu --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=CPU-PASSES
// RUN: qaf-opt %s --qaf-lower-to-linalg | qaf-opt --qaf-lower-to-cpu="from=linalg to=loops" --dump-pass-pipeline 2>&1 | FileCheck %s --check-prefix=CPU-LOOPS
// RUN: qaf-opt %s --qaf-lower-to-cpu="to=loops runtime-checks=false" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=UNCHECKED
// RUN: not qaf-opt %s --qaf-lower-to-cpu="from=loops to=linalg" 2>&1 | FileCheck %s --check-prefix=BACKWARDS
// RUN: not qaf-opt %s --qaf-lower-to-linalg="to=loops" 2>&1 | FileCheck %s --check-prefix=BEYOND
// RUN: not qaf-opt %s --qaf-lower-to-cpu="to=loop" 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// The shared pipeline outlines the weight, lowers to linalg and fuses
// SiLU (x * sigmoid(x)) into one loop after the matmul; exp stays a call
// of the math library.
// LINALG-LABEL: func.func @infer(%arg0: tensor<4x2xf32> {qaf.weight_name = "w", {{.*}}}, %arg1: tensor<?x4xf32>)
// LINALG: linalg.matmul ins(%arg1, %arg0 : tensor<?x4xf32>, tensor<4x2xf32>)
// LINALG: linalg.generic
// LINALG: math.exp
// LINALG-NOT: linalg.generic
// LINALG: return

// The CPU stops at the same phase with exp as a polynomial (no math.exp
// left), so that the loop vectorizes.
// CPU-LINALG-LABEL: func.func @prefill(
// CPU-LINALG: linalg.matmul
// CPU-LINALG: linalg.generic
// CPU-LINALG-NOT: math.exp
// CPU-LINALG: return

// All the way: the LLVM dialect, with the C interface wrapper the runtime
// calls.
// CPU-LLVM: llvm.func @infer(
// CPU-LLVM: llvm.func @_mlir_ciface_infer(

// The CPU pipeline's passes, in their order (tuned for speed: a change
// here must be deliberate).
// CPU-PASSES: builtin.module(
// CPU-PASSES-NEXT: qaf-raise-matmulnbits,
// CPU-PASSES-NEXT: func.func(
// CPU-PASSES-NEXT: qaf-share-zero-point-rows,
// CPU-PASSES-NEXT: qaf-share-grouped-kv,
// CPU-PASSES-NEXT: qaf-fold-weight-transposes
// CPU-PASSES-NEXT: ),
// CPU-PASSES-NEXT: qaf-outline-weights{entry=infer max-inline-elements=1024},
// CPU-PASSES-NEXT: qaf-convert-onnx-to-linalg{fuse-attention=false},
// CPU-PASSES-NEXT: canonicalize
// CPU-PASSES-NEXT: cse,
// CPU-PASSES-NEXT: func.func(
// CPU-PASSES-NEXT: qaf-fuse-elementwise,
// CPU-PASSES-NEXT: qaf-recognize-matmuls,
// CPU-PASSES-NEXT: qaf-approximate-math
// CPU-PASSES-NEXT: ),
// CPU-PASSES-NEXT: canonicalize
// CPU-PASSES-NEXT: cse,
// CPU-PASSES-NEXT: qaf-prepare-cpu-entry-points,
// CPU-PASSES-NEXT: func.func(
// CPU-PASSES-NEXT: qaf-unshare-fill-destinations
// CPU-PASSES-NEXT: ),
// CPU-PASSES-NEXT: one-shot-bufferize{allow-return-allocs-from-loops=true {{.*}} bufferize-function-boundaries=true {{.*}} function-boundary-type-conversion=identity-layout-map {{.*}}},
// CPU-PASSES-NEXT: scf-forall-to-for,
// CPU-PASSES-NEXT: canonicalize
// CPU-PASSES-NEXT: expand-realloc
// CPU-PASSES-NEXT: canonicalize
// CPU-PASSES-NEXT: ownership-based-buffer-deallocation
// CPU-PASSES-NEXT: canonicalize
// Simplified function by function: the entry points in parallel, large
// deallocs split first.
// CPU-PASSES-NEXT: func.func(
// CPU-PASSES-NEXT: qaf-split-block-deallocs{min-memrefs=64},
// CPU-PASSES-NEXT: buffer-deallocation-simplification
// CPU-PASSES-NEXT: ),
// CPU-PASSES-NEXT: bufferization-lower-deallocations,
// CPU-PASSES-NEXT: cse,
// CPU-PASSES-NEXT: canonicalize
// Buffers freed after their last use, not at the end of the entry point.
// CPU-PASSES-NEXT: func.func(
// CPU-PASSES-NEXT: qaf-free-buffers-early
// CPU-PASSES-NEXT: ),
// Kernel declarations go into the module: one function at a time.
// CPU-PASSES-NEXT: qaf-linalg-to-cpu-kernels,
// CPU-PASSES-NEXT: func.func(
// CPU-PASSES-NEXT: qaf-memref-copy-to-linalg
// CPU-PASSES-NEXT: ),
// CPU-PASSES-NEXT: qaf-guard-runtime-checks,
// CPU-PASSES-NEXT: func.func(
// CPU-PASSES-NEXT: convert-linalg-to-parallel-loops
// CPU-PASSES-NEXT: ),
// CPU-PASSES-NEXT: canonicalize
// CPU-PASSES-NEXT: func.func(
// CPU-PASSES-NEXT: qaf-sequential-inner-loops,
// CPU-PASSES-NEXT: qaf-promote-accumulators
// CPU-PASSES-NEXT: ),
// CPU-PASSES-NEXT: qaf-outline-parallel-loops,
// CPU-PASSES-NEXT: qaf-parallel-if-enough-work{min-iterations=16384},
// CPU-PASSES-NEXT: convert-scf-to-openmp
// CPU-PASSES-NEXT: qaf-inline-alloca-scopes,
// CPU-PASSES-NEXT: canonicalize
// CPU-PASSES-NEXT: func.func(
// CPU-PASSES-NEXT: qaf-expand-shape-to-reinterpret-cast
// CPU-PASSES-NEXT: ),
// CPU-PASSES-NEXT: expand-strided-metadata,
// CPU-PASSES-NEXT: lower-affine,
// CPU-PASSES-NEXT: qaf-lower-branches-last-first,
// CPU-PASSES-NEXT: convert-scf-to-cf{allow-pattern-rollback=false}
// Buffers through qaf's caching allocator (MLIR's generic functions), lowered
// before the OpenMP conversion would lower them to plain malloc.
// CPU-PASSES-NEXT: finalize-memref-to-llvm{{.*}}use-generic-functions=true
// Calls lowered with one symbol table, before the OpenMP lowering would
// look each callee up by a scan of the module.
// CPU-PASSES-NEXT: qaf-lower-funcs-to-llvm,
// CPU-PASSES-NEXT: convert-openmp-to-llvm,
// CPU-PASSES-NEXT: qaf-lower-math,
// CPU-PASSES-NEXT: convert-to-llvm
// CPU-PASSES-NEXT: reconcile-unrealized-casts
// CPU-PASSES-NEXT: )

// A range of phases runs only their passes: linalg to loops on the shared
// pipeline's output gives OpenMP loops around a GEMM kernel call.
// CPU-LOOPS: builtin.module(
// CPU-LOOPS-NEXT: qaf-prepare-cpu-entry-points,
// CPU-LOOPS-NOT: expand-strided-metadata
// CPU-LOOPS: qaf-parallel-if-enough-work
// CPU-LOOPS-NEXT: convert-scf-to-openmp
// CPU-LOOPS-NEXT: qaf-inline-alloca-scopes,
// CPU-LOOPS-NEXT: canonicalize
// CPU-LOOPS-NEXT: )
// Without run-time checks: they are erased on tensors, and nothing guards.
// UNCHECKED: qaf-drop-runtime-checks,
// UNCHECKED-NEXT: canonicalize
// UNCHECKED-NEXT: qaf-prepare-cpu-entry-points,
// UNCHECKED-NOT: qaf-guard-runtime-checks

// CPU-LOOPS: func.func private @infer_loop0(
// CPU-LOOPS: omp.parallel
// CPU-LOOPS: func.func @infer(%arg0: memref<4x2xf32> {{.*}}, %arg1: memref<?x4xf32>) -> memref<?x2xf32>
// CPU-LOOPS: call @qaf_sgemm_transposed(

// BACKWARDS: error: qaf-lower-to-cpu: phase 'linalg' comes before phase 'loops'
// BEYOND: error: qaf-lower-to-linalg runs from phase 'onnx' to phase 'linalg', not from 'onnx' to 'loops'
// UNKNOWN: for the --to option: Cannot find option named 'loop'!

func.func @main_graph(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = onnx.Constant {value = dense_resource<w> : tensor<4x2xf32>} : tensor<4x2xf32> loc("w")
  %y = onnx.MatMul %x, %w : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
  %s = onnx.Sigmoid %y : (tensor<?x2xf32>) -> tensor<?x2xf32>
  %z = onnx.Mul %y, %s : (tensor<?x2xf32>, tensor<?x2xf32>) -> tensor<?x2xf32>
  return %z : tensor<?x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F00000040000040400000804000000000000000000000803F0000803F"
    }
  }
#-}

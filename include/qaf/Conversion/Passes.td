//===- Passes.td - qaf's conversion passes -----------------*- tablegen -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_CONVERSION_PASSES_TD
#define QAF_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertONNXToLinalgPass
    : Pass<"qaf-convert-onnx-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower onnx dialect ops to linalg, tensor, arith, math and scf";
  let description = [{
    Rewrites every onnx op into upstream dialects on tensors, where the CPU
    and GPU paths share their lowering, and every qaf op with it
    (lib/Conversion/QAFToLinalg): quantized layers the qaf_qlinear kernel
    computes become `qaf.kernel.qlinear` ops (see
    `qaf-decompose-kernel-ops` for targets without the kernel). Element types become signless
    (`ui8` -> `i8`); the arithmetic chosen for each op keeps the ONNX
    signedness (`arith.divui`, `arith.uitofp`, ...). Function signatures are
    converted the same way.

    ONNX broadcasting is static: a dimension broadcasts when it is 1 in the
    type. Two dynamic sizes that meet in one result dimension must agree at
    run time, which a `qaf.check` checks (as it checks run-time indices,
    reshape element counts and contraction sizes), so a mismatch is an error
    the entry point returns, naming the node and the sizes, and never a
    wrong answer.

    With `fuse-attention` (for a target with a fused attention kernel),
    GroupQueryAttention's f32 attention without softcap or a sink becomes
    one `qaf.kernel.attention` after the rotary and the cache update, its
    causal / length / window mask (with attention_bias) the op's bias.
  }];
  let options = [
    Option<"fuseAttention", "fuse-attention", "bool", /*default=*/"false",
           "GroupQueryAttention's attention as qaf.kernel.attention">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::qaf::QAFDialect",
  ];
}

def DecomposeKernelOpsPass : Pass<"qaf-decompose-kernel-ops"> {
  let summary = "Replace qaf kernel ops by the linalg ops they stand for";
  let description = [{
    For targets without qaf's library kernels, after the onnx/qaf -> linalg
    lowering and before bufferization: each `qaf.kernel.qlinear` becomes
    its reference contraction, the `linalg.generic` the lowering builds for
    layers no kernel computes (one builder for both), whose steps unpack
    their code and dequantize it. It computes the same numbers as the
    kernel up to the order of the additions. Each `qaf.kernel.adapter_gradients`
    becomes METHODS.md's dense algebra: Gw = gᵀ·x [N, K], D from it, and
    the two products with the factors, as `linalg.generic`s.
    ```mlir
    %y = qaf.kernel.qlinear bits(4) group_size(64)
           input(%x : tensor<?x128xf32>) scales(%s : tensor<8x2xf32>)
           zero_points(%z : tensor<8x2xf32>) codes(%c : tensor<8x64xi8>)
           outs(%init : tensor<?x8xf32>) -> tensor<?x8xf32>
    // becomes
    %y = linalg.generic {iterator_types = ["parallel", "parallel",
           "reduction"]} ins(%x, %s, %z, %c : ...) outs(%init : ...) {
      // code = (byte >> 4·(k mod 2)) & 15; acc + x · (code − z) · s
    }
    ```
    Each `qaf.kernel.attention` becomes the chain it stands for: the
    scores [B, H, S, T] (a contraction reading key elements at the grouped
    head and broadcast batch), scaled and biased, the softmax's maximum,
    sum and quotient, and the contraction with the values.
    A kernel op already on buffers is an error. With `keep-qlinear`, the
    `qaf.kernel.qlinear` ops on affine codes stay for a target whose own
    kernels compute them (the CUDA target's qaf-cuda-kernels); those with a
    NormalFloat codebook and the other kernel ops are decomposed; with
    `keep-attention-head-size=N`, so do the attention ops whose head sizes
    are static and at most N.
  }];
  let options = [
    Option<"keepQLinear", "keep-qlinear", "bool", /*default=*/"false",
           "Leave affine qaf.kernel.qlinear ops for a target kernel pass">,
    Option<"keepAttentionHeadSize", "keep-attention-head-size", "int64_t",
           /*default=*/"0",
           "Leave qaf.kernel.attention ops whose head sizes are static and "
           "at most this for a target kernel pass (0: decompose them all)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def PrepareCPUEntryPointsPass
    : Pass<"qaf-prepare-cpu-entry-points", "mlir::ModuleOp"> {
  let summary = "Give public functions the host calling convention of qaf artifacts";
  let description = [{
    On tensors, before bufferization. For every public function:
    - each returned value is copied into a fresh allocation
      (`bufferization.alloc_tensor copy(...)`), so that every output the
      caller receives is its own `malloc`ed buffer, never an alias of an
      input, a weight or a constant (the runtime frees outputs); a value
      written into a `tensor.empty` of the function's own (through
      destination operands and reshapes), returned once, is returned as it
      is;
    - the function gets `llvm.emit_c_interface`, whose wrapper takes memref
      descriptors by pointer (see docs/artifact-abi.md).
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def LinalgToCPUKernelsPass
    : Pass<"qaf-linalg-to-cpu-kernels", "mlir::ModuleOp"> {
  let summary = "Call qaf's CPU kernels for f32 matmuls and kernel ops on buffers";
  let description = [{
    After bufferization. Replaces `linalg.matmul` and `linalg.batch_matmul`
    on f32 memrefs whose rows are contiguous (unit innermost stride) by calls
    of `qaf_sgemm` / `qaf_sgemm_batched` (lib/Runtime/CPU/Kernels: packed,
    register-blocked, vectorized for AVX2/AVX-512, multi-threaded), passing
    addresses and leading dimensions from the buffers' strided metadata.
    Other matmuls are left to the generic loop lowering.

    Every `qaf.kernel.qlinear` becomes a call of `qaf_qlinear` (one left on
    tensors is an error: the pass runs after bufferization):
    ```mlir
    qaf.kernel.qlinear bits(4) group_size(32) input(%x : memref<?x64xf32>)
      ... codes(%c : memref<8x32xi8>) outs(%y : memref<?x8xf32>)
    // becomes
    call @qaf_qlinear(%m, %c8_i64, %c64_i64, %x_address, %c64_i64, ...,
                      %c4_i64, %c32_i64, %c1_i32)
    ```
    and every `qaf.kernel.adapter_gradients` a call of
    `qaf_lota_factor_gradients` or `qaf_l4q_gradients`.

    The last argument, `accumulate`, is 1 (add to the output), or 0
    (overwrite) where a `linalg.fill` of +0.0 zeroed exactly the output
    with nothing touching memory between them; that fill is then erased.

    A module pass: the kernels are declared in the module, which functions
    handled in parallel would race to insert into.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def ExpandShapeToReinterpretCastPass
    : Pass<"qaf-expand-shape-to-reinterpret-cast", "mlir::func::FuncOp"> {
  let summary = "Rewrite memref.expand_shape with several dynamic sizes per group";
  let description = [{
    MLIR 22.1's `expand-strided-metadata` crashes on a `memref.expand_shape`
    whose reassociation group holds more than one dynamic size
    (llvm-project issue 186830, fixed after 22.1), which dynamic batch and
    sequence dimensions produce all the time. This pass rewrites exactly
    those ops into `memref.reinterpret_cast` of the source's base buffer,
    with the sizes from `output_shape` and the strides of each group built
    from the source dimension's stride outward. Run it before
    `expand-strided-metadata`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def MemRefCopyToLinalgPass
    : Pass<"qaf-memref-copy-to-linalg", "mlir::func::FuncOp"> {
  let summary = "Turn memref.copy into linalg.copy";
  let description = [{
    `memref.copy` between buffers of non-identity layout lowers to a call of
    `memrefCopy` from MLIR's C runner utilities, a library artifacts do not
    ship. As `linalg.copy` it becomes loops like any other linalg op:
    parallel, vectorizable, and self-contained.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def SequentialInnerLoopsPass
    : Pass<"qaf-sequential-inner-loops", "mlir::func::FuncOp"> {
  let summary = "Run the innermost dimension of parallel loops serially";
  let description = [{
    An outermost d-dimensional `scf.parallel` (d >= 2, no reductions, and
    no loops inside unless its outer dimensions alone have at least 8
    iterations known at compile time, as attention's heads do) becomes a
    (d-1)-dimensional one around an `scf.for` over the innermost
    dimension. OpenMP then splits only the outer dimensions among threads
    (collapsed, their indices rebuilt once per inner loop rather than per
    element), and the inner loop, which walks contiguous memory, is one
    LLVM's loop vectorizer handles. An `scf.parallel` inside another one
    (no reductions) becomes nested `scf.for` loops: the threads already
    split the outer loop, and OpenMP would fork a nested region at every
    iteration around it.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def ParallelIfEnoughWorkPass
    : Pass<"qaf-parallel-if-enough-work", "mlir::ModuleOp"> {
  let summary = "Run parallel loops on threads only when they have enough work";
  let description = [{
    Versions each outermost `scf.parallel` (before convert-scf-to-openmp):
    `scf.if (work >= min-iterations) { the parallel loop } else { the same
    body as nested scf.for loops }`, where the work is the loop's innermost
    iterations (the parallel dimensions' trip counts times those of the
    `scf.for` loops inside, sibling loops added, both branches of an scf.if
    counted), computed at run time from bounds defined outside the loop; a
    count known at compile time keeps only the version that runs.
    Reductions become the serial loops' iter_args, combined in iteration
    order. A decoder's one-token step runs some thirty small loops per
    layer (a few hundred elements each), where forking threads costs more
    than the loop, and even a serialized OpenMP region costs its runtime
    calls (0.4 us with Debian's libomp, which formats debug trace strings
    in every worksharing loop's static_init): the serial version enters no
    runtime at all. A loop whose work cannot be told from outside it (inner
    bounds computed inside) stays parallel.
  }];
  let options = [
    Option<"minIterations", "min-iterations", "int64_t", "16384",
           "Fewest innermost iterations that run on all threads">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def PromoteAccumulatorsPass
    : Pass<"qaf-promote-accumulators", "mlir::func::FuncOp"> {
  let summary = "Keep a reduction loop's accumulator in a register";
  let description = [{
    An `scf.for` whose body loads one element of a buffer at indices defined
    outside the loop and stores back to it (a linalg reduction lowered to
    loops), the buffer touched by nothing else in the loop and certainly
    distinct (its own allocation or function argument) from every buffer the
    loop reads or writes, carries the element as an iter_arg instead: one
    load before the loop, one store after. A float sum into it is marked
    `reassoc` so that LLVM's loop vectorizer may split it across lanes (the
    order then follows the vector width: fixed for an artifact). Loops with
    other memory effects (calls) are left alone.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def ChecksToAssertsPass : Pass<"qaf-checks-to-asserts"> {
  let summary = "Turn qaf.check ops into cf.assert (no error channel)";
  let description = [{
    For pipelines that run the lowered code without qaf's runtime (upstream
    `mlir-runner` harnesses): each `qaf.check` becomes a `cf.assert` with
    its message, the values left as their `{i}` placeholders. A failure
    then aborts; compiled artifacts use `qaf-guard-runtime-checks` instead.
  }];
  let dependentDialects = ["::mlir::cf::ControlFlowDialect"];
}

def DropRuntimeChecksPass : Pass<"qaf-drop-runtime-checks"> {
  let summary = "Erase qaf.check ops (run-time checks off)";
  let description = [{
    `qaf-compile --runtime-checks=off`: the model is compiled without its
    run-time checks, to measure what they cost (bench/runtime_checks). Each
    `qaf.check` is erased; run on tensors, before bufferization, so that
    the canonicalizer after it also removes what computed the conditions
    (the index range reductions), and `qaf-guard-runtime-checks` is left
    out (no allocation checks either). An input a check would refuse is
    then undefined behaviour.
  }];
}

def GuardRuntimeChecksPass
    : Pass<"qaf-guard-runtime-checks", "mlir::ModuleOp"> {
  let summary = "Report failed qaf.check ops and skip the work after them";
  let description = [{
    On buffers, before the loops: each `qaf.check` becomes a call of
    `qaf_report_error(code, message, v0, v1, v2)` (the error channel of
    include/qaf/Runtime/CPU/ErrorChannel.h, which records the first failure
    and returns) under `scf.if` of the failed condition, and every
    allocation gets a check that it did not return null (unless it holds
    no element). In each block the conjunction of the checks so far guards
    each later operation that computes into memory (result-less ops other
    than deallocations), so after a failed check nothing reads or writes
    out of bounds, buffers are still freed, and the entry point returns the
    status. A failure inside a loop or branch reaches the work after it: an
    `scf.for` carries the conjunction as an i1 iteration argument, an
    `scf.if` yields it as one more i1 result, and a parallel loop (its
    iterations on several threads) asks `qaf_check_failed()` at the start
    of each iteration and after the loop. A loop after a failed check runs
    no iteration (its upper bound becomes its lower bound):

    ```mlir
    qaf.check %ok, "node 'g': index {0} out of range" (%i : i64)
    linalg.generic ... outs(%out : memref<?xf32>)
    // becomes
    scf.if %failed { func.call @qaf_report_error(%c1, %msg, %i64, ...) }
    scf.if %ok { linalg.generic ... }
    ```

    The checks stay outside the loops the ops become: one test per op, not
    per element.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def LowerFuncsToLLVMPass : Pass<"qaf-lower-funcs-to-llvm", "mlir::ModuleOp"> {
  let summary = "Lower func ops to the LLVM dialect, looking callees up in one symbol table";
  let description = [{
    Upstream's func.call lowering, as `convert-openmp-to-llvm` and
    `convert-to-llvm` run it, finds each callee with
    `SymbolTable::lookupNearestSymbolFrom`, a scan of the module: a training
    step calls thousands of outlined loop functions, so the lowering took
    time in the square of the model's depth (31 % of the 30-block train
    artifact's compile). This pass runs the same patterns first, with a
    `SymbolTableCollection` built once, so the later passes find no func op
    left. Only func ops change; the ops inside the bodies are left for the
    passes after it.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def LowerMathPass : Pass<"qaf-lower-math", "mlir::ModuleOp"> {
  let summary = "convert-math-to-funcs, convert-math-to-llvm and "
                "convert-math-to-libm, on the math ops only";
  let description = [{
    The three upstream passes each rewrite the whole module (a greedy or
    dialect-conversion walk over every op) although a model has a few
    hundred math ops among hundreds of thousands: 10 s of a 30-block
    training artifact's compile. This pass finds the math ops once and
    converts only those: `math.ipowi`/`math.fpowi` become functions when
    present (as convert-math-to-funcs does), every math op with an LLVM
    intrinsic becomes it (convert-math-to-llvm's patterns, on the collected
    ops), and what is left calls libm (convert-math-to-libm, run only when
    something is left). Then it folds the module once, with no patterns:
    the descriptor insertvalue/extractvalue chains that the memref and func
    conversions leave fold away here far more cheaply than in LLVM (the
    greedy walk of convert-math-to-libm used to do this by the way).
  }];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect",
    "::mlir::func::FuncDialect",
  ];
}

def SplitBlockDeallocsPass
    : Pass<"qaf-split-block-deallocs", "mlir::func::FuncOp"> {
  let summary = "Give each unaliased allocation of a large bufferization.dealloc a dealloc of its own";
  let description = [{
    Ownership-based deallocation ends a block with one `bufferization.dealloc`
    of every buffer the block owns: ~7 000 for a 30-block decoder's training
    step. `buffer-deallocation-simplification` splits out the memrefs that
    cannot alias any other operand with one alias query per pair, 17 s of a
    two-minute compile. This pass does that split first, for deallocs of at
    least `min-memrefs` memrefs, on the same alias rule (the buffer origin analysis:
    different allocations when the terminal buffers of one value are all
    allocations, those of the other allocations or function entry
    arguments, and they share none), by counting each terminal's operands:
    a memref whose condition is a constant true and whose one terminal
    allocation no other memref or retained value may come from gets a
    dealloc of its own, without retained values, before the original. If
    any operand may come from an unknown buffer, nothing moves.

    ```mlir
    %r:1 = bufferization.dealloc (%a, %b, %v : ...) if (%true, %true, %c)
             retain (%out : memref<f32>)
    // becomes, with %a and %b allocations no other operand may alias:
    bufferization.dealloc (%a : ...) if (%true)
    bufferization.dealloc (%b : ...) if (%true)
    %r:1 = bufferization.dealloc (%v : ...) if (%c) retain (%out : memref<f32>)
    ```
  }];
  let options = [
    Option<"minMemrefs", "min-memrefs", "unsigned", /*default=*/"64",
           "Split deallocs of at least this many memrefs (smaller ones are "
           "cheap for the simplification)">,
  ];
}

def FreeBuffersEarlyPass
    : Pass<"qaf-free-buffers-early", "mlir::func::FuncOp"> {
  let summary = "Move each memref.dealloc up to just after the last use of its buffer";
  let description = [{
    Ownership-based deallocation frees a block's buffers at the end of the
    block. A model's entry point is one block, so every temporary of a
    training step stayed allocated until the step returned: the 30-block
    train step held 2.8 GB at once, most of it gradients long dead. This pass
    moves each unconditional `memref.dealloc` to right after the last op of
    its block that uses the buffer or anything derived from it.

    "Derived" is followed conservatively, forward from the allocation (the
    dealloc's operand is first traced back through views and
    `extract_strided_metadata` to it): the memref, pointer-sized integer
    and pointer results of every op that uses a derived value (views,
    `extract_aligned_pointer_as_index` and the integer arithmetic on it that
    kernel calls receive, call results), the block arguments of the regions
    of an op that takes one, and the results of an op whose region yields
    one. Sizes, loaded elements and i1 conditions end the chain. A use
    outside the dealloc's block, or a buffer that is a function argument,
    leaves the dealloc where it is.

    ```mlir
    %a = memref.alloc(%n) : memref<?xf32>
    linalg.fill ins(%c : f32) outs(%a : memref<?xf32>)
    %p = memref.extract_aligned_pointer_as_index %a : memref<?xf32> -> index
    %i = arith.index_cast %p : index to i64
    func.call @kernel(%i) : (i64) -> ()
    ... (much more)
    memref.dealloc %a : memref<?xf32>
    // becomes: the dealloc right after func.call @kernel
    ```
  }];
}

def InlineAllocaScopesPass : Pass<"qaf-inline-alloca-scopes"> {
  let summary = "Inline memref.alloca_scope ops that hold no memref.alloca";
  let description = [{
    `convert-scf-to-openmp` wraps a parallel loop body that calls a
    function (a run-time check's report) in a `memref.alloca_scope`, whose
    region must stay one block; `convert-scf-to-cf` then cannot lower the
    branches inside it. A scope without a `memref.alloca` in it frees
    nothing (a callee's stack is its own), so its body is inlined:

    ```mlir
    memref.alloca_scope { scf.if %failed { func.call @qaf_report_error(...) } ... }
    // becomes
    scf.if %failed { func.call @qaf_report_error(...) } ...
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def OutlineParallelLoopsPass
    : Pass<"qaf-outline-parallel-loops", "mlir::ModuleOp"> {
  let summary = "Move each outermost scf.parallel into a function of its own";
  let description = [{
    A whole model is one function with a thousand or more parallel loop
    nests. Translating OpenMP regions to LLVM IR extracts each region from
    its enclosing function, at a cost that grows with that function's size,
    so one big function takes minutes. Outlined first, every loop nest sits
    in a small private function (called once; LLVM inlines it back after the
    OpenMP regions are built) and translation takes seconds. Constants used
    inside are cloned into the new function rather than passed.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def FuseElementwisePass : Pass<"qaf-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse element-wise linalg ops, never rewriting contractions";
  let description = [{
    Upstream `linalg-fuse-elementwise-ops` also pushes reshapes through any
    linalg op, which turns a `linalg.matmul` on collapsed activations
    (`[batch*seq, k] x [k, n]`, how every transformer projection is lowered)
    into a 3-D `linalg.generic` contraction that no GEMM kernel recognises.
    This pass fuses element-wise producers into consumers and propagates
    reshapes like upstream, but leaves every contraction and named op as it
    is, so matmuls reach the kernels.

    The onnx lowering reads an operand whose dynamic size may be a run-time
    1 against a larger result through a broadcast view, a
    `tensor.extract_slice` from offset 0 with stride 0 or 1. Such a view
    between two element-wise generics moves up onto the inputs of its
    producer (when nothing else reads it), and a view that takes the whole
    operand (sizes resolved through `tensor.dim`, `tensor.empty`, reshapes
    and destination operands; strides comparing equal sizes) folds away;
    rewriting and CSE alternate until neither changes anything. Fusion over
    dynamic shapes is thus what it is over static ones.

    Target-neutral (lib/Conversion/Common), run by `qaf-lower-to-linalg`:
    every target wants fused element-wise loops and recognisable matmuls.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def UnshareFillDestinationsPass
    : Pass<"qaf-unshare-fill-destinations", "mlir::func::FuncOp"> {
  let summary = "Give each op written into a filled tensor a fill of its own";
  let description = [{
    On tensors, before one-shot bufferization. CSE merges the identical
    `tensor.empty` + `linalg.fill` destinations of ops that write into a
    zeroed tensor (a transformer's gate and up projections read the same
    input, so their destinations are the same value); bufferization then
    fills one buffer and copies it for the other writer. Here every
    destination-style use of a fill of a `tensor.empty` gets its own empty
    tensor and fill, placed just before the op that writes it:
    ```mlir
    %f = linalg.fill ins(%zero) outs(%e)
    %a = qaf.kernel.qlinear ... outs(%f)
    %b = qaf.kernel.qlinear ... outs(%f)
    // becomes
    %f0 = linalg.fill ins(%zero) outs(%e0)
    %a = qaf.kernel.qlinear ... outs(%f0)
    %f1 = linalg.fill ins(%zero) outs(%e1)
    %b = qaf.kernel.qlinear ... outs(%f1)
    ```
    No copy is made, and each fill directly precedes its writer, where the
    CPU kernel lowering (qaf-linalg-to-cpu-kernels) folds a zero fill into
    the kernel call (overwrite instead of accumulate).
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def RecognizeMatmulsPass
    : Pass<"qaf-recognize-matmuls", "mlir::func::FuncOp"> {
  let summary = "Contractions as the matmuls every target's kernels take";
  let description = [{
    Every target's kernels take `linalg.matmul` and `linalg.batch_matmul`
    with either operand transposed; any other contraction runs as generic
    loops. Two rewrites bring products to that form:
    - a `linalg.generic` with one reduction loop and a multiply-add body
      (C += A·B with A, B read as (m, k)/(k, m) and (k, n)/(n, k), batched
      over at most one leading dim) becomes the named op with those maps;
    - a `linalg.transpose` that swaps the last two dims of a matmul operand
      (batch dims in place) becomes a transposed map on that operand; the
      copy goes once nothing else reads it. Backward passes multiply by
      transposes (dY·Wᵀ, Xᵀ·dY), and a tied LM head's gradient would
      otherwise copy the whole embedding every step.
    Runs in `qaf-lower-to-linalg` after element-wise fusion.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def ApproximateMathPass : Pass<"qaf-approximate-math", "mlir::func::FuncOp"> {
  let summary = "Inline polynomial approximations of exp, tanh and erf";
  let description = [{
    `math.exp`, `math.tanh` and `math.erf` on f32 otherwise become calls into
    libm, one element at a time, which also keeps LLVM from vectorizing the
    loops around them (SiLU, softmax, GELU). Upstream's polynomial
    approximations are plain arithmetic, accurate to a few ulp, and
    vectorize.

    The rewrite is target-neutral (lib/Conversion/Common) and runs inside
    `qaf-lower-to-linalg`, right after element-wise fusion; whether it runs
    is each target's choice (`approximate-math`, on for the CPU): a GPU's
    math library has fast vector versions of these functions already.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect",
  ];
}

#endif // QAF_CONVERSION_PASSES_TD

//===- CUDAKernels.cpp - matmuls and kernel ops launch qaf's CUDA kernels -===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The kernels are MLIR (KernelLibrary.mlir, compiled in as text), so they go
// down the same gpu -> NVVM -> PTX -> ptxas road as every generated kernel.
// A template is instantiated once per module and precision: cloned into
// gpu.module @qaf_cuda_kernels, its precision hook retargeted, its helpers
// inlined and its constant loops unrolled. Each rewritten op becomes a
// launch whose operands are strided views of its buffers: one kernel serves
// every layout (transposes are swapped strides, a 2-D product a batch of 1).
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/CUDA/Pipeline.h"
#include "qaf/Conversion/CUDAKernelPasses.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qaf {
#define GEN_PASS_DEF_CUDAKERNELSPASS
#include "qaf/Conversion/CUDAKernelPasses.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kKernelLibrary =
#include "KernelLibrary.inc"
    ;

constexpr llvm::StringLiteral kKernelModule = "qaf_cuda_kernels";
constexpr llvm::StringLiteral kUnrollAttr = "qaf.unroll";
constexpr llvm::StringLiteral kPrecisionHook = "mma_tile";
/// Threads per block of every kernel; the tensor-core kernels' block tile
/// is kBlockTile x kBlockTile, the decode kernel's kDecodeRows rows.
constexpr int64_t kBlockThreads = 128;
constexpr int64_t kBlockTile = 64;
constexpr int64_t kDecodeRows = 4;
/// Below this many rows a quantized layer runs the decode kernel.
constexpr int64_t kDecodeMaxRows = 16;

/// Replaces a call of a single-block function by a copy of its body.
void inlineCall(func::CallOp call, func::FuncOp callee) {
  Block &body = callee.getBody().front();
  IRMapping mapping;
  mapping.map(body.getArguments(), call.getOperands());
  OpBuilder builder(call);
  for (Operation &op : body.without_terminator())
    builder.clone(op, mapping);
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  for (auto [result, value] : llvm::zip(call.getResults(), ret.getOperands()))
    result.replaceAllUsesWith(mapping.lookupOrDefault(value));
  call.erase();
}

/// The kernels of one module: the parsed templates and the gpu.module that
/// receives their instances.
class KernelInstantiator {
public:
  KernelInstantiator(ModuleOp module, StringRef precision)
      : module(module), precision(precision) {}

  /// The instance of template `name` (with the precision's mma step when
  /// `withPrecision`), created on first use.
  FailureOr<gpu::GPUFuncOp> getKernel(StringRef name, bool withPrecision,
                                      Location loc);

  /// Folds the instances' constant arithmetic (once, after all launches).
  void canonicalize();

private:
  LogicalResult loadLibrary(Location loc);
  gpu::GPUModuleOp getKernelModule();

  ModuleOp module;
  StringRef precision;
  OwningOpRef<ModuleOp> library;
  gpu::GPUModuleOp templates, kernels;
};

LogicalResult KernelInstantiator::loadLibrary(Location loc) {
  if (templates)
    return success();
  library = parseSourceString<ModuleOp>(kKernelLibrary,
                                        ParserConfig(module.getContext()));
  if (!library)
    return emitError(loc, "qaf-cuda-kernels: the kernel library does not "
                          "parse (a build error)");
  for (auto gpuModule : library->getOps<gpu::GPUModuleOp>())
    templates = gpuModule;
  if (!templates)
    return emitError(loc, "qaf-cuda-kernels: no gpu.module in the library");
  return success();
}

gpu::GPUModuleOp KernelInstantiator::getKernelModule() {
  if (kernels)
    return kernels;
  if ((kernels = module.lookupSymbol<gpu::GPUModuleOp>(kKernelModule)))
    return kernels;
  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                  UnitAttr::get(module.getContext()));
  // No target: the pipeline attaches its architecture's to every
  // gpu.module (nvvm-attach-target), this one included.
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  kernels = gpu::GPUModuleOp::create(builder, module.getLoc(), kKernelModule);
  return kernels;
}

FailureOr<gpu::GPUFuncOp> KernelInstantiator::getKernel(StringRef name,
                                                        bool withPrecision,
                                                        Location loc) {
  std::string instanceName =
      withPrecision ? (name + "_" + precision).str() : name.str();
  gpu::GPUModuleOp kernelModule = getKernelModule();
  if (auto existing = kernelModule.lookupSymbol<gpu::GPUFuncOp>(instanceName))
    return existing;
  if (failed(loadLibrary(loc)))
    return failure();
  auto source = templates.lookupSymbol<gpu::GPUFuncOp>(name);
  if (!source)
    return emitError(loc, "qaf-cuda-kernels: no kernel template ") << name;

  OpBuilder builder = OpBuilder::atBlockEnd(kernelModule.getBody());
  auto kernel = cast<gpu::GPUFuncOp>(builder.clone(*source));
  kernel.setName(instanceName);
  std::string hook = (kPrecisionHook + "_" + precision).str();
  // Inline helpers until none is called; the precision hook becomes the
  // precision's mma step on the way.
  while (true) {
    SmallVector<func::CallOp> calls;
    kernel.walk([&](func::CallOp call) { calls.push_back(call); });
    if (calls.empty())
      break;
    for (func::CallOp call : calls) {
      StringRef callee = call.getCallee();
      if (callee == kPrecisionHook)
        callee = hook;
      auto helper = templates.lookupSymbol<func::FuncOp>(callee);
      if (!helper || helper.isExternal())
        return emitError(loc, "qaf-cuda-kernels: kernel ")
               << name << " calls " << callee << ", which has no body";
      inlineCall(call, helper);
    }
  }
  // Inner loops first (the walk is post-order), so each unrolled body is
  // already flat.
  SmallVector<scf::ForOp> loops;
  kernel.walk([&](scf::ForOp loop) {
    if (loop->hasAttr(kUnrollAttr))
      loops.push_back(loop);
  });
  for (scf::ForOp loop : loops)
    if (failed(loopUnrollFull(loop)))
      return emitError(loc, "qaf-cuda-kernels: a loop of kernel ")
             << name << " marked for unrolling has no constant trip count";
  return kernel;
}

void KernelInstantiator::canonicalize() {
  if (!kernels)
    return;
  MLIRContext *context = module.getContext();
  RewritePatternSet patterns(context);
  for (Dialect *dialect : context->getLoadedDialects())
    dialect->getCanonicalizationPatterns(patterns);
  for (RegisteredOperationName op : context->getRegisteredOperations())
    op.getCanonicalizationPatterns(patterns, context);
  // Folding can only simplify the instances; a non-converging driver
  // leaves correct IR.
  (void)applyPatternsGreedily(kernels, std::move(patterns));
}

/// The buffer `buffer` as the kernel type `type` (a fully dynamic strided
/// memref of rank 2 or 3): logical dimension i is the buffer's dimension
/// `dims[i]`, or, where that is -1, a broadcast one of size `broadcastSize`
/// (stride 0).
Value getKernelView(OpBuilder &b, Location loc, Value buffer,
                    ArrayRef<int64_t> dims, Value broadcastSize,
                    MemRefType type) {
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, buffer);
  SmallVector<OpFoldResult> sizes, strides;
  for (int64_t dim : dims) {
    if (dim < 0) {
      sizes.push_back(broadcastSize);
      strides.push_back(b.getIndexAttr(0));
      continue;
    }
    sizes.push_back(metadata.getSizes()[dim]);
    strides.push_back(metadata.getStrides()[dim]);
  }
  return memref::ReinterpretCastOp::create(
      b, loc, type, metadata.getBaseBuffer(), metadata.getOffset(), sizes,
      strides);
}

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// A buffer's size along `dim`: a constant where its type has it, so that
/// the launch conditions on it fold.
Value sizeOf(OpBuilder &b, Location loc, Value buffer, int64_t dim) {
  int64_t size = cast<MemRefType>(buffer.getType()).getDimSize(dim);
  if (ShapedType::isDynamic(size))
    return memref::DimOp::create(b, loc, buffer, dim);
  return indexConstant(b, loc, size);
}

Value compare(OpBuilder &b, Location loc, arith::CmpIPredicate predicate,
              Value lhs, int64_t rhs) {
  return b.createOrFold<arith::CmpIOp>(loc, predicate, lhs,
                                       indexConstant(b, loc, rhs));
}

/// Whether every size is above 0 (a launch has work), folded where the
/// sizes are constants.
Value allPositive(OpBuilder &b, Location loc, ArrayRef<Value> sizes) {
  Value all;
  for (Value size : sizes) {
    Value positive = compare(b, loc, arith::CmpIPredicate::ugt, size, 0);
    all = all ? b.createOrFold<arith::AndIOp>(loc, all, positive) : positive;
  }
  return all;
}

/// ceil(size / tile) blocks along one grid dimension.
Value blocksFor(OpBuilder &b, Location loc, Value size, int64_t tile) {
  return b.createOrFold<arith::CeilDivUIOp>(loc, size,
                                            indexConstant(b, loc, tile));
}

void launch(OpBuilder &b, Location loc, gpu::GPUFuncOp kernel,
            gpu::KernelDim3 grid, ValueRange operands) {
  Value one = indexConstant(b, loc, 1);
  gpu::KernelDim3 block = {indexConstant(b, loc, kBlockThreads), one, one};
  gpu::LaunchFuncOp::create(b, loc, kernel, grid, block,
                            /*dynamicSharedMemorySize=*/Value(), operands);
}

/// Runs `body` under `condition` (directly when it folds to a constant).
void emitIf(OpBuilder &b, Location loc, Value condition,
            llvm::function_ref<void(OpBuilder &)> body) {
  if (std::optional<int64_t> known = getConstantIntValue(condition)) {
    if (*known)
      body(b);
    return;
  }
  auto ifOp = scf::IfOp::create(b, loc, condition, /*withElseRegion=*/false);
  OpBuilder inner = ifOp.getThenBodyBuilder();
  body(inner);
}

bool isF32Buffer(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.getElementType().isF32() && type.isStrided();
}

/// For a matmul-like op: the positions of the batch, M, N and K loops, and
/// for each operand the operand dimension each logical dimension ([batch,
/// M, K] for A, [batch, K, N] for B, [batch, M, N] for C) reads (-1:
/// broadcast). Fails for anything but one M, N and K loop, at most one
/// batch loop, and projected-permutation maps.
struct MatmulLayout {
  std::optional<unsigned> batch;
  unsigned m, n, k;
  SmallVector<int64_t, 3> a, b, c;
};

FailureOr<MatmulLayout> getMatmulLayout(linalg::LinalgOp op) {
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->m.size() != 1 || dims->n.size() != 1 ||
      dims->k.size() != 1 || dims->batch.size() > 1)
    return failure();
  MatmulLayout layout;
  layout.m = dims->m[0];
  layout.n = dims->n[0];
  layout.k = dims->k[0];
  if (!dims->batch.empty())
    layout.batch = dims->batch[0];
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto place = [&](AffineMap map, ArrayRef<std::optional<unsigned>> loops,
                   SmallVector<int64_t, 3> &out) -> LogicalResult {
    if (!map.isProjectedPermutation())
      return failure();
    for (std::optional<unsigned> loop : loops) {
      int64_t position = -1;
      if (loop)
        if (std::optional<unsigned> result =
                map.getResultPosition(getAffineDimExpr(*loop, op.getContext())))
          position = *result;
      if (position < 0 && loop != layout.batch)
        return failure();
      out.push_back(position);
    }
    return success();
  };
  if (failed(place(maps[0], {layout.batch, layout.m, layout.k}, layout.a)) ||
      failed(place(maps[1], {layout.batch, layout.k, layout.n}, layout.b)) ||
      failed(place(maps[2], {layout.batch, layout.m, layout.n}, layout.c)))
    return failure();
  // The output is never broadcast: each element is written once.
  if (layout.batch && layout.c[0] < 0)
    return failure();
  return layout;
}

LogicalResult launchMatmul(linalg::LinalgOp op, const MatmulLayout &layout,
                           KernelInstantiator &kernels) {
  Location loc = op.getLoc();
  FailureOr<gpu::GPUFuncOp> kernel =
      kernels.getKernel("qaf_matmul", /*withPrecision=*/true, loc);
  if (failed(kernel))
    return failure();
  auto viewType = cast<MemRefType>(kernel->getArgumentTypes()[0]);
  OpBuilder b(op);
  Value a = op.getDpsInputs()[0], bMatrix = op.getDpsInputs()[1];
  Value c = op.getDpsInits()[0];
  Value batch = layout.c[0] < 0 ? indexConstant(b, loc, 1)
                                : sizeOf(b, loc, c, layout.c[0]);
  Value aView = getKernelView(b, loc, a, layout.a, batch, viewType);
  Value bView = getKernelView(b, loc, bMatrix, layout.b, batch, viewType);
  Value cView = getKernelView(b, loc, c, layout.c, batch, viewType);
  Value m = sizeOf(b, loc, c, layout.c[1]);
  Value n = sizeOf(b, loc, c, layout.c[2]);
  emitIf(b, loc, allPositive(b, loc, {m, n, batch}), [&](OpBuilder &nb) {
    launch(nb, loc, *kernel,
           {blocksFor(nb, loc, n, kBlockTile),
            blocksFor(nb, loc, m, kBlockTile), batch},
           {aView, bView, cView});
  });
  op->erase();
  return success();
}

LogicalResult launchQLinear(qaf::QLinearKernelOp op,
                            KernelInstantiator &kernels) {
  Location loc = op.getLoc();
  bool transposed = op.getTransposeWeight();
  StringRef tiledName = transposed ? "qaf_qlinear_transposed" : "qaf_qlinear";
  FailureOr<gpu::GPUFuncOp> tiled =
      kernels.getKernel(tiledName, /*withPrecision=*/true, loc);
  if (failed(tiled))
    return failure();
  if (op.getCodebook())
    return op.emitOpError("qaf-cuda-kernels reads affine codes: decompose a "
                          "NormalFloat layer's op (qaf-decompose-kernel-ops)");
  for (Value bytes : {op.getCodes(), op.getMoves()})
    if (bytes &&
        !cast<MemRefType>(bytes.getType()).getElementType().isSignlessInteger())
      return op.emitOpError("qaf-cuda-kernels reads signless i8 codes and "
                            "moves, not ")
             << bytes.getType();

  OpBuilder b(op);
  ArrayRef<Type> types = tiled->getArgumentTypes();
  auto rowsView = [&](Value buffer) {
    return getKernelView(b, loc, buffer, {-1, 0, 1}, indexConstant(b, loc, 1),
                         cast<MemRefType>(types[0]));
  };
  auto castTo = [&](Value buffer, Type type) -> Value {
    return memref::CastOp::create(b, loc, type, buffer);
  };
  Value moves = op.getMoves();
  Value input = rowsView(op.getInput());
  Value scales = castTo(op.getScales(), types[1]);
  // One row of zero points [1, K/g] is every row's: a view of N rows with
  // row stride 0.
  Value zeroPoints = op.hasSharedZeroPointRow()
                         ? getKernelView(b, loc, op.getZeroPoints(), {-1, 1},
                                         sizeOf(b, loc, op.getCodes(), 0),
                                         cast<MemRefType>(types[2]))
                         : castTo(op.getZeroPoints(), types[2]);
  SmallVector<Value> operands = {
      input, scales, zeroPoints, castTo(op.getCodes(), types[3]),
      // Without moves the kernel never reads this operand.
      castTo(moves ? moves : op.getCodes(), types[4]), rowsView(op.getInit()),
      indexConstant(b, loc, static_cast<int64_t>(op.getBits())),
      indexConstant(b, loc, static_cast<int64_t>(op.getGroupSize())),
      indexConstant(b, loc, moves ? 1 : 0)};

  Value m = sizeOf(b, loc, op.getInit(), 0);
  Value columns = sizeOf(b, loc, op.getInit(), 1);
  Value one = indexConstant(b, loc, 1);
  auto launchTiled = [&](OpBuilder &nb) {
    launch(nb, loc, *tiled,
           {blocksFor(nb, loc, columns, kBlockTile),
            blocksFor(nb, loc, m, kBlockTile), one},
           operands);
  };
  if (transposed) {
    Value nonEmpty = compare(b, loc, arith::CmpIPredicate::ugt, m, 0);
    emitIf(b, loc, nonEmpty, launchTiled);
    op->erase();
    return success();
  }

  FailureOr<gpu::GPUFuncOp> decode =
      kernels.getKernel("qaf_qlinear_decode", /*withPrecision=*/false, loc);
  if (failed(decode))
    return failure();
  auto launchDecode = [&](OpBuilder &nb) {
    launch(nb, loc, *decode,
           {blocksFor(nb, loc, columns, kDecodeRows), one, one}, operands);
  };
  Value fewRows = compare(b, loc, arith::CmpIPredicate::ult, m, kDecodeMaxRows);
  if (std::optional<int64_t> known = getConstantIntValue(fewRows)) {
    if (*known)
      launchDecode(b);
    else
      launchTiled(b);
  } else {
    auto ifOp = scf::IfOp::create(b, loc, fewRows, /*withElseRegion=*/true);
    OpBuilder thenBuilder = ifOp.getThenBodyBuilder();
    launchDecode(thenBuilder);
    OpBuilder elseBuilder = ifOp.getElseBodyBuilder();
    launchTiled(elseBuilder);
  }
  op->erase();
  return success();
}

/// `buffer` (rank 4) as the kernel type `type`, each dimension i with a
/// size in `fullSizes` broadcast to it where the buffer's is 1 at run time
/// (its stride 0), as the op's numpy broadcasting reads it.
Value getBroadcastView(OpBuilder &b, Location loc, Value buffer,
                       ArrayRef<Value> fullSizes, MemRefType type) {
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, buffer);
  SmallVector<OpFoldResult> sizes, strides;
  Value zero = indexConstant(b, loc, 0);
  for (auto [dim, full] : llvm::enumerate(fullSizes)) {
    Value size = metadata.getSizes()[dim];
    Value stride = metadata.getStrides()[dim];
    if (!full) {
      sizes.push_back(size);
      strides.push_back(stride);
      continue;
    }
    Value isOne = b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                                size, indexConstant(b, loc, 1));
    sizes.push_back(full);
    strides.push_back(
        b.createOrFold<arith::SelectOp>(loc, isOne, zero, stride));
  }
  return memref::ReinterpretCastOp::create(
      b, loc, type, metadata.getBaseBuffer(), metadata.getOffset(), sizes,
      strides);
}

LogicalResult launchAttention(qaf::AttentionKernelOp op,
                              KernelInstantiator &kernels) {
  Location loc = op.getLoc();
  if (Value outside = op.getHeadSizeOutside(qaf::kCUDAAttentionMaxHeadSize))
    return op.emitOpError("qaf-cuda-kernels' fused attention takes static "
                          "head sizes from 1 to ")
           << qaf::kCUDAAttentionMaxHeadSize << ", not " << outside.getType()
           << ": decompose it (qaf-decompose-kernel-ops)";
  FailureOr<gpu::GPUFuncOp> kernel =
      kernels.getKernel("qaf_attention", /*withPrecision=*/false, loc);
  if (failed(kernel))
    return failure();
  auto viewType = cast<MemRefType>(kernel->getArgumentTypes()[0]);
  OpBuilder b(op);
  Value init = op.getInit();
  Value batch = sizeOf(b, loc, init, 0), heads = sizeOf(b, loc, init, 1);
  Value queries = sizeOf(b, loc, init, 2);
  auto plain = [&](Value buffer) {
    return getBroadcastView(b, loc, buffer,
                            {Value(), Value(), Value(), Value()}, viewType);
  };
  Value query = plain(op.getQuery());
  // Key and value batches of 1 and the bias's dimensions of 1 broadcast.
  Value key = getBroadcastView(b, loc, op.getKey(),
                               {batch, Value(), Value(), Value()}, viewType);
  Value value = getBroadcastView(b, loc, op.getValue(),
                                 {batch, Value(), Value(), Value()}, viewType);
  Value bias = op.getBias();
  Value keys = sizeOf(b, loc, op.getKey(), 2);
  Value biasView =
      bias ? getBroadcastView(b, loc, bias, {batch, heads, queries, keys},
                              viewType)
           : query; // never read without a bias
  SmallVector<Value> operands = {
      query,
      key,
      value,
      biasView,
      plain(init),
      arith::ConstantOp::create(b, loc,
                                b.getF32FloatAttr(static_cast<float>(
                                    op.getScale().convertToDouble()))),
      indexConstant(b, loc, bias ? 1 : 0),
      indexConstant(b, loc, op.getZeroNanRows() ? 1 : 0)};
  emitIf(b, loc, allPositive(b, loc, {batch, heads, queries}),
         [&](OpBuilder &nb) {
           launch(nb, loc, *kernel, {queries, heads, batch}, operands);
         });
  op->erase();
  return success();
}

/// sm_XY (or sm_XYa) with XY >= 80: the architectures with mma.sync on
/// tf32 and bf16.
bool hasTensorCoreMma(StringRef arch) {
  StringRef number = arch;
  unsigned version;
  if (!number.consume_front("sm_"))
    return false;
  number.consume_back("a");
  return !number.getAsInteger(10, version) && version >= 80;
}

/// Device code launches nothing: ops inside a gpu.launch or a gpu.module
/// are the GPU mapping's.
bool isOnDevice(Operation *op) {
  return op->getParentOfType<gpu::LaunchOp>() ||
         op->getParentOfType<gpu::GPUModuleOp>();
}

struct CUDAKernelsPass : qaf::impl::CUDAKernelsPassBase<CUDAKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!hasTensorCoreMma(arch)) {
      module.emitError("qaf-cuda-kernels: arch must be sm_80 or newer (the "
                       "kernels use mma.sync with tf32 and bf16), not ")
          << arch;
      return signalPassFailure();
    }
    if (precision != "tf32" && precision != "bf16") {
      module.emitError("qaf-cuda-kernels: precision must be tf32 or bf16, not ")
          << precision;
      return signalPassFailure();
    }

    // Kernel ops were emitted for a kernel: each must become a launch, from
    // host code.
    SmallVector<qaf::QLinearKernelOp> quantized;
    SmallVector<qaf::AttentionKernelOp> attentions;
    WalkResult onTensors = module.walk([&](DestinationStyleOpInterface op) {
      if (!isa<qaf::QLinearKernelOp, qaf::AttentionKernelOp>(op))
        return WalkResult::advance();
      if (!op.hasPureBufferSemantics()) {
        op->emitOpError("must be bufferized before qaf-cuda-kernels");
        return WalkResult::interrupt();
      }
      if (isOnDevice(op)) {
        op->emitOpError("is in device code: qaf-cuda-kernels runs before the "
                        "mapping to the gpu dialect");
        return WalkResult::interrupt();
      }
      if (auto qlinear = dyn_cast<qaf::QLinearKernelOp>(*op))
        quantized.push_back(qlinear);
      else
        attentions.push_back(cast<qaf::AttentionKernelOp>(*op));
      return WalkResult::advance();
    });
    if (onTensors.wasInterrupted())
      return signalPassFailure();

    SmallVector<std::pair<linalg::LinalgOp, MatmulLayout>> matmuls;
    module.walk([&](linalg::LinalgOp op) {
      if (!isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) ||
          !op.hasPureBufferSemantics() ||
          !llvm::all_of(op->getOperands(), isF32Buffer) || isOnDevice(op))
        return;
      if (FailureOr<MatmulLayout> layout = getMatmulLayout(op);
          succeeded(layout))
        matmuls.push_back({op, *layout});
    });

    KernelInstantiator kernels(module, precision);
    for (qaf::QLinearKernelOp op : quantized)
      if (failed(launchQLinear(op, kernels)))
        return signalPassFailure();
    for (qaf::AttentionKernelOp op : attentions)
      if (failed(launchAttention(op, kernels)))
        return signalPassFailure();
    for (auto &[op, layout] : matmuls)
      if (failed(launchMatmul(op, layout, kernels)))
        return signalPassFailure();
    kernels.canonicalize();
  }
};

} // namespace

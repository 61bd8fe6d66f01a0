//===- LinalgToKernels.cpp - matmuls and kernel ops call qaf's kernels ----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The kernels (lib/Runtime/CPU/Kernels) take addresses and leading
// dimensions as integers, so the generated call needs no pointer types: the
// buffer's aligned address plus its offset, and its row stride.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/MatmulForms.h"
#include "qaf/Conversion/Passes.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace qaf {
#define GEN_PASS_DEF_LINALGTOCPUKERNELSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kSgemm = "qaf_sgemm_transposed";
constexpr llvm::StringLiteral kSgemmBatched = "qaf_sgemm_batched_transposed";
constexpr llvm::StringLiteral kQLinear = "qaf_qlinear";
constexpr llvm::StringLiteral kQLinearTransposed = "qaf_qlinear_transposed";
constexpr llvm::StringLiteral kQLinearInt8 = "qaf_qlinear_int8";
constexpr llvm::StringLiteral kLoTAGradients = "qaf_lota_factor_gradients";
constexpr llvm::StringLiteral kL4QGradients = "qaf_l4q_gradients";

/// A buffer as the kernels see it: its first element's address, its size
/// along each dimension and its strides, all i64.
struct KernelOperand {
  Value address;
  SmallVector<Value> sizes;
  SmallVector<Value> strides;
};

/// Contiguous rows are what the kernels read: the innermost stride must be 1
/// in the type (the common case after bufferization).
bool hasContiguousRows(Value buffer) {
  auto type = dyn_cast<MemRefType>(buffer.getType());
  if (!type || !type.getElementType().isF32())
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  return !strides.empty() && strides.back() == 1;
}

KernelOperand getKernelOperand(OpBuilder &builder, Location loc, Value buffer) {
  auto metadata =
      memref::ExtractStridedMetadataOp::create(builder, loc, buffer);
  Value base =
      memref::ExtractAlignedPointerAsIndexOp::create(builder, loc, buffer);
  int64_t bytes = llvm::divideCeil(
      cast<MemRefType>(buffer.getType()).getElementTypeBitWidth(), 8);
  Value elementBytes = arith::ConstantIndexOp::create(builder, loc, bytes);
  Value offsetBytes =
      arith::MulIOp::create(builder, loc, metadata.getOffset(), elementBytes);
  Value address = arith::AddIOp::create(builder, loc, base, offsetBytes);
  auto toI64 = [&](Value index) -> Value {
    return arith::IndexCastOp::create(builder, loc, builder.getI64Type(),
                                      index);
  };
  KernelOperand operand;
  operand.address = toI64(address);
  for (Value size : metadata.getSizes())
    operand.sizes.push_back(toI64(size));
  for (Value stride : metadata.getStrides())
    operand.strides.push_back(toI64(stride));
  return operand;
}

func::FuncOp getOrDeclareKernel(ModuleOp module, StringRef name,
                                TypeRange inputs) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
  auto func = func::FuncOp::create(builder, module.getLoc(), name,
                                   builder.getFunctionType(inputs, {}));
  func.setPrivate();
  return func;
}

/// A kernel of `numI64Args` i64 arguments and a last i32 (`accumulate`).
func::FuncOp getOrDeclareKernel(ModuleOp module, StringRef name,
                                unsigned numI64Args) {
  Builder builder(module.getContext());
  SmallVector<Type> inputs(numI64Args, builder.getI64Type());
  inputs.push_back(builder.getI32Type());
  return getOrDeclareKernel(module, name, inputs);
}

/// The kernels' last argument for an op writing into `init`: 0 (overwrite)
/// when a `linalg.fill` of +0.0 zeroed exactly `init` with nothing between
/// them that touches memory (only ops without memory effects, allocations
/// and deallocations of other buffers), and the fill is then erased, a pass
/// over the output spared; else 1 (add to what `init` holds). The kernels
/// write every element when they overwrite, zeros for an empty K included.
Value getAccumulateFlag(OpBuilder &builder, Operation *op, Value init) {
  bool overwrite = false;
  for (Operation *before = op->getPrevNode(); before;
       before = before->getPrevNode()) {
    if (auto fill = dyn_cast<linalg::FillOp>(before)) {
      overwrite =
          fill.getDpsInitOperand(0)->get() == init &&
          matchPattern(fill.getDpsInputOperand(0)->get(), m_PosZeroFloat());
      if (overwrite)
        fill->erase();
      break;
    }
    if (!isMemoryEffectFree(before) &&
        !isa<memref::AllocOp, memref::AllocaOp, memref::DeallocOp>(before))
      break;
  }
  return arith::ConstantIntOp::create(builder, op->getLoc(), overwrite ? 0 : 1,
                                      32);
}

/// The form of a linalg.matmul or linalg.batch_matmul the kernel computes:
/// buffers with contiguous rows and one of the plain or transposed forms,
/// nothing broadcast. The op accumulates into its output, which is what
/// `accumulate = 1` does (see getAccumulateFlag).
template <typename MatmulOp>
std::optional<qaf::MatmulForm> getKernelForm(MatmulOp op) {
  if (!op.hasPureBufferSemantics() ||
      !llvm::all_of(op->getOperands(),
                    [](Value buffer) { return hasContiguousRows(buffer); }))
    return std::nullopt;
  return qaf::getMatmulForm(op.getIndexingMapsArray(),
                            std::is_same_v<MatmulOp, linalg::BatchMatmulOp>);
}

/// qaf_qlinear(M, N, K, x, ldx, codes, codesStride, scales, scalesStride,
/// zeros, zerosStride, moves, movesStride, codebook, y, ldy, bits,
/// groupSize, accumulate), qaf_qlinear_int8 (int8_activations) or
/// qaf_qlinear_transposed with the same
/// arguments for the product with W itself (x [M, N], y [M, K]): the op
/// accumulates into `init`. Absent zero points, moves and codebook are
/// address 0; one row of zero points [1, K/g] has row stride 0. Its verifier
/// admits only what the kernel computes, on buffers with contiguous rows.
void replaceWithQLinearCall(qaf::QLinearKernelOp op, ModuleOp module) {
  OpBuilder builder(op);
  Location loc = op.getLoc();
  auto i64 = [&](int64_t value) -> Value {
    return arith::ConstantIntOp::create(builder, loc, value, 64);
  };
  // An optional operand's address and row stride, 0 and 0 when absent.
  Value zero;
  auto getZero = [&] {
    if (!zero)
      zero = i64(0);
    return zero;
  };
  auto optionalOperand = [&](Value buffer) -> std::pair<Value, Value> {
    if (!buffer)
      return {getZero(), getZero()};
    KernelOperand operand = getKernelOperand(builder, loc, buffer);
    return {operand.address, operand.strides[0]};
  };
  KernelOperand x = getKernelOperand(builder, loc, op.getInput());
  KernelOperand scales = getKernelOperand(builder, loc, op.getScales());
  auto [zerosAddress, zerosStride] = optionalOperand(op.getZeroPoints());
  // One row of zero points is every row's.
  if (op.hasSharedZeroPointRow())
    zerosStride = getZero();
  KernelOperand codes = getKernelOperand(builder, loc, op.getCodes());
  KernelOperand y = getKernelOperand(builder, loc, op.getInit());
  auto [movesAddress, movesStride] = optionalOperand(op.getMoves());
  Value codebookAddress = optionalOperand(op.getCodebook()).first;
  bool transposed = op.getTransposeWeight();
  func::FuncOp kernel =
      getOrDeclareKernel(module,
                         transposed                ? kQLinearTransposed
                         : op.getInt8Activations() ? kQLinearInt8
                                                   : kQLinear,
                         18);
  // N and K: the features of y and x, or of x and y when transposed.
  Value n = transposed ? x.sizes[1] : y.sizes[1];
  Value k = transposed ? y.sizes[1] : x.sizes[1];
  func::CallOp::create(
      builder, loc, kernel,
      ValueRange{x.sizes[0], n, k, x.address, x.strides[0], codes.address,
                 codes.strides[0], scales.address, scales.strides[0],
                 zerosAddress, zerosStride, movesAddress, movesStride,
                 codebookAddress, y.address, y.strides[0],
                 i64(static_cast<int64_t>(op.getBits())),
                 i64(static_cast<int64_t>(op.getGroupSize())),
                 getAccumulateFlag(builder, op, op.getInit())});
  op->erase();
}

/// qaf_lota_factor_gradients(M, N, K, rank, g, ldg, x, ldx, scales,
/// scalesStride, A, aStride, B, bStride, dA, ldda, dB, lddb, groupSize, ω)
/// or qaf_l4q_gradients(M, N, K, rank, g, ldg, x, ldx, u, uStride, codes,
/// codesStride, A, aStride, B, bStride, dA, ldda, dB, lddb, dScales,
/// dScalesStride, dOffsets, dOffsetsStride, bits, groupSize, α): every
/// buffer as its address and row stride, in operand order.
void replaceWithAdapterGradientsCall(qaf::AdapterGradientsKernelOp op,
                                     ModuleOp module) {
  OpBuilder builder(op);
  Location loc = op.getLoc();
  auto i64 = [&](int64_t value) -> Value {
    return arith::ConstantIntOp::create(builder, loc, value, 64);
  };
  KernelOperand g = getKernelOperand(builder, loc, op.getOutputGradient());
  KernelOperand x = getKernelOperand(builder, loc, op.getLayerInput());
  auto factorShape = cast<MemRefType>(op.getA().getType()).getShape();
  SmallVector<Value> arguments = {
      g.sizes[0], g.sizes[1],   i64(factorShape[1]), i64(factorShape[0]),
      g.address,  g.strides[0], x.address,           x.strides[0]};
  for (Value buffer : op->getOperands().drop_front(2)) {
    KernelOperand operand = getKernelOperand(builder, loc, buffer);
    arguments.push_back(operand.address);
    arguments.push_back(operand.strides[0]);
  }
  if (!op.isLoTA())
    arguments.push_back(i64(static_cast<int64_t>(*op.getBits())));
  arguments.push_back(i64(static_cast<int64_t>(op.getGroupSize())));
  SmallVector<Type> types(arguments.size(), builder.getI64Type());
  types.push_back(builder.getF64Type());
  arguments.push_back(
      arith::ConstantOp::create(builder, loc, op.getCoefficientAttr()));
  func::FuncOp kernel = getOrDeclareKernel(
      module, op.isLoTA() ? kLoTAGradients : kL4QGradients, types);
  func::CallOp::create(builder, loc, kernel, arguments);
  op->erase();
}

/// qaf_sgemm[_batched]_transposed(…, transposeA, transposeB, accumulate):
/// the sizes from the output (M, N) and from A's reduced dimension (K).
void replaceWithSgemmCall(Operation *op, qaf::MatmulForm form,
                          ModuleOp module) {
  OpBuilder builder(op);
  Location loc = op->getLoc();
  auto linalgOp = cast<linalg::LinalgOp>(op);
  KernelOperand a = getKernelOperand(builder, loc, linalgOp.getDpsInputs()[0]);
  KernelOperand b = getKernelOperand(builder, loc, linalgOp.getDpsInputs()[1]);
  KernelOperand c = getKernelOperand(builder, loc, linalgOp.getDpsInits()[0]);
  auto flag = [&](bool value) -> Value {
    return arith::ConstantIntOp::create(builder, loc, value ? 1 : 0, 64);
  };
  // The matrix dims are the last two; a batch dim comes first.
  unsigned rowDim = isa<linalg::BatchMatmulOp>(op) ? 1 : 0;
  Value m = c.sizes[rowDim], n = c.sizes[rowDim + 1];
  Value k = a.sizes[form.transposeA ? rowDim : rowDim + 1];
  Value transposeA = flag(form.transposeA);
  Value transposeB = flag(form.transposeB);
  Value accumulate = getAccumulateFlag(builder, op, linalgOp.getDpsInits()[0]);
  if (rowDim == 0) {
    func::FuncOp kernel = getOrDeclareKernel(module, kSgemm, 11);
    func::CallOp::create(builder, loc, kernel,
                         ValueRange{m, n, k, a.address, a.strides[0], b.address,
                                    b.strides[0], c.address, c.strides[0],
                                    transposeA, transposeB, accumulate});
  } else {
    func::FuncOp kernel = getOrDeclareKernel(module, kSgemmBatched, 15);
    func::CallOp::create(builder, loc, kernel,
                         ValueRange{c.sizes[0], m, n, k, a.address,
                                    a.strides[0], a.strides[1], b.address,
                                    b.strides[0], b.strides[1], c.address,
                                    c.strides[0], c.strides[1], transposeA,
                                    transposeB, accumulate});
  }
  op->erase();
}

/// Replaces every `OpTy` in `func` by its call; an op still on tensors is
/// an error.
template <typename OpTy>
LogicalResult replaceKernelOps(func::FuncOp func, ModuleOp module,
                               void (*replace)(OpTy, ModuleOp)) {
  SmallVector<OpTy> ops;
  WalkResult onTensors = func.walk([&](OpTy op) {
    if (!op.hasPureBufferSemantics()) {
      op.emitOpError("must be bufferized before qaf-linalg-to-cpu-kernels");
      return WalkResult::interrupt();
    }
    ops.push_back(op);
    return WalkResult::advance();
  });
  if (onTensors.wasInterrupted())
    return failure();
  for (OpTy op : ops)
    replace(op, module);
  return success();
}

struct LinalgToCPUKernelsPass
    : qaf::impl::LinalgToCPUKernelsPassBase<LinalgToCPUKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // (Collected first: declaring a kernel inserts into the module.)
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>()))
      if (failed(replaceInFunction(func, module)))
        return signalPassFailure();
  }

  static LogicalResult replaceInFunction(func::FuncOp func, ModuleOp module) {
    // Every kernel op becomes a call: that is what it was emitted for.
    if (failed(replaceKernelOps<qaf::QLinearKernelOp>(
            func, module, replaceWithQLinearCall)) ||
        failed(replaceKernelOps<qaf::AdapterGradientsKernelOp>(
            func, module, replaceWithAdapterGradientsCall)))
      return failure();

    SmallVector<std::pair<Operation *, qaf::MatmulForm>> matmuls;
    func.walk([&](Operation *op) {
      std::optional<qaf::MatmulForm> form;
      if (auto matmul = dyn_cast<linalg::MatmulOp>(op))
        form = getKernelForm(matmul);
      else if (auto batched = dyn_cast<linalg::BatchMatmulOp>(op))
        form = getKernelForm(batched);
      if (form)
        matmuls.push_back({op, *form});
    });
    for (auto [op, form] : matmuls)
      replaceWithSgemmCall(op, form, module);
    return success();
  }
};

} // namespace

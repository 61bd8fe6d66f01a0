//===- MapLinalgToGPU.cpp - linalg on buffers -> gpu launches -------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The generic code of the CUDA target, for every linalg op the tensor-core
// kernels (qaf-cuda-kernels) did not take: one thread per point of the op's
// parallel iteration space, which loops over the reduction dimensions
// itself, so a reduction is never split between threads and needs no
// atomics. The parallel dimensions are linearized into one, tiled by the
// block size, and mapped to blocks and threads; convert-parallel-loops-to-gpu
// then makes the gpu.launch.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/CUDA/Pipeline.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

using namespace mlir;

namespace qaf {
namespace {

/// Threads per block of the generic kernels.
constexpr int64_t kThreadsPerBlock = 256;

/// `op` with its parallel dimensions first, so that its loop nest is one
/// scf.parallel around scf.for loops over the reduction dimensions.
FailureOr<linalg::LinalgOp> putParallelDimsFirst(RewriterBase &rewriter,
                                                 linalg::LinalgOp op) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<unsigned> order;
  for (auto [i, iterator] : llvm::enumerate(iterators))
    if (iterator == utils::IteratorType::parallel)
      order.push_back(i);
  unsigned parallelCount = order.size();
  for (auto [i, iterator] : llvm::enumerate(iterators))
    if (iterator != utils::IteratorType::parallel)
      order.push_back(i);
  if (llvm::all_of(llvm::seq<unsigned>(0, parallelCount),
                   [&](unsigned i) { return order[i] == i; }))
    return op;
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic) {
    FailureOr<linalg::GenericOp> generalized =
        linalg::generalizeNamedOp(rewriter, op);
    if (failed(generalized))
      return failure();
    generic = *generalized;
  }
  FailureOr<linalg::GenericOp> interchanged =
      linalg::interchangeGenericOp(rewriter, generic, order);
  if (failed(interchanged))
    return failure();
  return cast<linalg::LinalgOp>(interchanged->getOperation());
}

/// Replaces a multi-dimensional `loop` by a one-dimensional one from 0 to
/// the product of its trip counts, whose body recovers the original
/// induction variables by division.
scf::ParallelOp linearize(RewriterBase &rewriter, scf::ParallelOp loop) {
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  SmallVector<Value> counts;
  Value total = one;
  for (auto [lower, upper, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    Value span = arith::SubIOp::create(rewriter, loc, upper, lower);
    Value count = arith::CeilDivSIOp::create(rewriter, loc, span, step);
    count = arith::MaxSIOp::create(rewriter, loc, count, zero);
    counts.push_back(count);
    total = arith::MulIOp::create(rewriter, loc, total, count);
  }
  auto linear = scf::ParallelOp::create(rewriter, loc, ValueRange{zero},
                                        ValueRange{total}, ValueRange{one});
  Block *body = linear.getBody();
  rewriter.setInsertionPointToStart(body);
  Value remaining = linear.getInductionVars().front();
  SmallVector<Value> ivs(counts.size());
  // The last dimension varies fastest: neighbouring threads touch
  // neighbouring elements of row-major buffers.
  for (int64_t i = counts.size() - 1; i >= 0; --i) {
    Value index = remaining;
    if (i > 0) {
      index = arith::RemUIOp::create(rewriter, loc, remaining, counts[i]);
      remaining = arith::DivUIOp::create(rewriter, loc, remaining, counts[i]);
    }
    Value scaled =
        arith::MulIOp::create(rewriter, loc, index, loop.getStep()[i]);
    ivs[i] =
        arith::AddIOp::create(rewriter, loc, scaled, loop.getLowerBound()[i]);
  }
  // The old body (its scf.reduce dropped) goes before the new terminator.
  Block *oldBody = loop.getBody();
  rewriter.eraseOp(oldBody->getTerminator());
  rewriter.inlineBlockBefore(oldBody, body->getTerminator(), ivs);
  rewriter.eraseOp(loop);
  return linear;
}

/// Replaces an integer power (which the CPU lowers to a helper function
/// that kernels cannot call) by square-and-multiply over the exponent's
/// bits; a negative exponent gives 1/b^n truncated: 1 for b = 1, ±1 for
/// b = -1, else 0.
void expandIntegerPower(RewriterBase &rewriter, math::IPowIOp power) {
  Location loc = power.getLoc();
  rewriter.setInsertionPoint(power);
  Type type = power.getType();
  unsigned width = getElementTypeOrSelf(type).getIntOrFloatBitWidth();
  auto constant = [&](int64_t value) -> Value {
    return arith::ConstantOp::create(
        rewriter, loc, type,
        rewriter.getIntegerAttr(getElementTypeOrSelf(type), value));
  };
  Value zero = constant(0), one = constant(1), minusOne = constant(-1);
  Value base = power.getLhs(), exponent = power.getRhs();
  Value result = one, square = base;
  for (unsigned bit = 0; bit + 1 < width; ++bit) {
    Value shifted =
        arith::ShRUIOp::create(rewriter, loc, exponent, constant(bit));
    Value set = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::ne,
        arith::AndIOp::create(rewriter, loc, shifted, one), zero);
    result = arith::SelectOp::create(
        rewriter, loc, set,
        arith::MulIOp::create(rewriter, loc, result, square), result);
    square = arith::MulIOp::create(rewriter, loc, square, square);
  }
  Value odd = arith::CmpIOp::create(
      rewriter, loc, arith::CmpIPredicate::ne,
      arith::AndIOp::create(rewriter, loc, exponent, one), zero);
  auto equals = [&](Value value) {
    return arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, base,
                                 value);
  };
  Value negative = arith::SelectOp::create(
      rewriter, loc, equals(one), one,
      arith::SelectOp::create(
          rewriter, loc, equals(minusOne),
          arith::SelectOp::create(rewriter, loc, odd, minusOne, one), zero));
  Value isNegative = arith::CmpIOp::create(
      rewriter, loc, arith::CmpIPredicate::slt, exponent, zero);
  rewriter.replaceOpWithNewOp<arith::SelectOp>(power, isNegative, negative,
                                               result);
}

struct MapLinalgToGPUPass
    : PassWrapper<MapLinalgToGPUPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(MapLinalgToGPUPass)
  StringRef getArgument() const override {
    return "qaf-cuda-map-linalg-to-gpu";
  }
  StringRef getDescription() const override {
    return "Map every linalg op on buffers to a gpu.launch: one thread per "
           "point of its parallel iteration space, looping over its "
           "reduction dimensions";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<affine::AffineDialect, arith::ArithDialect, gpu::GPUDialect,
                    memref::MemRefDialect, scf::SCFDialect>();
  }

  void runOnOperation() override {
    if (failed(lowerLinalgToParallelLoops()) || failed(mapParallelLoops()))
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    SmallVector<math::IPowIOp> powers;
    getOperation().walk([&](math::IPowIOp power) { powers.push_back(power); });
    for (math::IPowIOp power : powers)
      expandIntegerPower(rewriter, power);
  }

private:
  LogicalResult lowerLinalgToParallelLoops() {
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isCUDAHostCode(op))
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops) {
      if (!op.hasPureBufferSemantics())
        return op.emitOpError("is not on buffers: the CUDA target maps "
                              "linalg ops to the GPU after bufferization");
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::LinalgOp> ordered = putParallelDimsFirst(rewriter, op);
      if (failed(ordered))
        return op.emitOpError(
            "cannot be reordered with its parallel dimensions first");
      op = *ordered;
      // Without a parallel dimension (a reduction to one value), one
      // thread computes it.
      if (op.getNumParallelLoops() == 0) {
        Location loc = op.getLoc();
        Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
        Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
        auto single = scf::ParallelOp::create(rewriter, loc, ValueRange{zero},
                                              ValueRange{one}, ValueRange{one});
        op->moveBefore(single.getBody()->getTerminator());
        rewriter.setInsertionPoint(op);
      }
      if (failed(linalg::linalgOpToParallelLoops(rewriter, op)))
        return op.emitOpError("cannot be lowered to loops for the GPU");
      rewriter.eraseOp(op);
    }
    return success();
  }

  LogicalResult mapParallelLoops() {
    MLIRContext *context = &getContext();
    IRRewriter rewriter(context);
    SmallVector<scf::ParallelOp> outermost;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (isCUDAHostCode(loop) && !loop->getParentOfType<scf::ParallelOp>())
        outermost.push_back(loop);
    });
    AffineMap identity = AffineMap::getMultiDimIdentityMap(1, context);
    auto mapping = [&](gpu::Processor processor) {
      return gpu::ParallelLoopDimMappingAttr::get(context, processor, identity,
                                                  identity);
    };
    for (scf::ParallelOp loop : outermost) {
      scf::ParallelOp linear = linearize(rewriter, loop);
      // An empty iteration space launches nothing (a grid of zero blocks
      // is a launch error).
      Location loc = linear.getLoc();
      rewriter.setInsertionPoint(linear);
      Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
      Value nonEmpty =
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sgt,
                                linear.getUpperBound().front(), zero);
      auto guard = scf::IfOp::create(rewriter, loc, nonEmpty,
                                     /*withElseRegion=*/false);
      linear->moveBefore(guard.thenBlock()->getTerminator());
      auto [blocks, threads] = scf::tileParallelLoop(linear, {kThreadsPerBlock},
                                                     /*noMinMaxBounds=*/true);
      if (failed(
              gpu::setMappingAttr(blocks, {mapping(gpu::Processor::BlockX)})) ||
          failed(
              gpu::setMappingAttr(threads, {mapping(gpu::Processor::ThreadX)})))
        return blocks.emitOpError("cannot be mapped to the GPU");
      // Parallel loops nested deeper run sequentially in their thread.
      threads.getBody()->walk([&](scf::ParallelOp nested) {
        SmallVector<gpu::ParallelLoopDimMappingAttr> sequential(
            nested.getNumLoops(), mapping(gpu::Processor::Sequential));
        (void)gpu::setMappingAttr(nested, sequential);
      });
    }
    return success();
  }
};

} // namespace

bool isCUDAHostCode(Operation *op) {
  return !op->getParentOfType<gpu::LaunchOp>() &&
         !op->getParentOfType<gpu::GPUModuleOp>();
}

std::unique_ptr<Pass> createMapLinalgToGPUPass() {
  return std::make_unique<MapLinalgToGPUPass>();
}

} // namespace qaf

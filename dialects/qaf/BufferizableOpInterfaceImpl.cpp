//===- BufferizableOpInterfaceImpl.cpp - kernel ops in place --------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Destination-passing: the inputs are read, the inits are read and written
// in place, the results are the inits' buffers (upstream's DstBufferizable
// model).
// The kernel takes one row stride per operand, so a buffer whose rows are
// not contiguous (rare: a strided view) is copied into a fresh one first,
// and an init's copy written back after.
//
//===----------------------------------------------------------------------===//

#include "qaf/dialects/qaf/BufferizableOpInterfaceImpl.h"

#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace qaf {
namespace {

/// `buffer`, or a contiguous copy of it where the kernel cannot read it.
FailureOr<Value> getKernelReadableBuffer(RewriterBase &rewriter, Location loc,
                                         Value buffer,
                                         const BufferizationOptions &options) {
  auto type = cast<MemRefType>(buffer.getType());
  if (QLinearKernelOp::isKernelReadable(type))
    return buffer;
  SmallVector<Value> dynamicSizes;
  for (int64_t dim = 0; dim < type.getRank(); ++dim)
    if (type.isDynamicDim(dim))
      dynamicSizes.push_back(memref::DimOp::create(rewriter, loc, buffer, dim));
  FailureOr<Value> copy = options.createAlloc(
      rewriter, loc, MemRefType::get(type.getShape(), type.getElementType()),
      dynamicSizes);
  if (failed(copy) ||
      failed(options.createMemCpy(rewriter, loc, buffer, *copy)))
    return failure();
  return *copy;
}

/// Every kernel op: the same op on the operands' buffers (kernel-readable
/// copies where needed), without results; the inits' copies are written
/// back to their buffers after it.
template <typename OpTy>
struct KernelOpInterface
    : DstBufferizableOpInterfaceExternalModel<KernelOpInterface<OpTy>, OpTy> {
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto kernel = cast<OpTy>(op);
    Location loc = op->getLoc();
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(op);
    SmallVector<Value> operands, initBuffers, initCopies;
    for (OpOperand &operand : op->getOpOperands()) {
      FailureOr<Value> buffer =
          getBuffer(rewriter, operand.get(), options, state);
      if (failed(buffer))
        return failure();
      FailureOr<Value> readable =
          getKernelReadableBuffer(rewriter, loc, *buffer, options);
      if (failed(readable))
        return failure();
      operands.push_back(*readable);
      if (kernel.isDpsInit(&operand)) {
        initBuffers.push_back(*buffer);
        initCopies.push_back(*readable);
      }
    }
    OperationState bufferized(loc, op->getName(), operands, TypeRange(),
                              op->getAttrs());
    rewriter.create(bufferized);
    for (auto [copy, buffer] : llvm::zip(initCopies, initBuffers))
      if (copy != buffer &&
          failed(options.createMemCpy(rewriter, loc, copy, buffer)))
        return failure();
    replaceOpWithBufferizedValues(rewriter, op, initBuffers);
    return success();
  }
};

} // namespace

void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, QAFDialect *) {
    QLinearKernelOp::attachInterface<KernelOpInterface<QLinearKernelOp>>(
        *context);
    AdapterGradientsKernelOp::attachInterface<
        KernelOpInterface<AdapterGradientsKernelOp>>(*context);
    AttentionKernelOp::attachInterface<KernelOpInterface<AttentionKernelOp>>(
        *context);
  });
}

} // namespace qaf

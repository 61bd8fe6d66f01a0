//===- BufferizableOpInterfaceImpl.cpp - kernel ops in place --------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Destination-passing: the inputs are read, `init` is read and written in
// place, the result is `init`'s buffer (upstream's DstBufferizable model).
// The kernel takes one row stride per operand, so a buffer whose rows are
// not contiguous (rare: a strided view) is copied into a fresh one first,
// and `init`'s copy written back after.
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

struct QLinearKernelOpInterface
    : DstBufferizableOpInterfaceExternalModel<QLinearKernelOpInterface,
                                              QLinearKernelOp> {
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto kernel = cast<QLinearKernelOp>(op);
    Location loc = op->getLoc();
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(op);
    Value initBuffer;
    auto bufferize = [&](Value tensor) -> FailureOr<Value> {
      if (!tensor)
        return Value();
      FailureOr<Value> buffer = getBuffer(rewriter, tensor, options, state);
      if (failed(buffer))
        return failure();
      if (tensor == kernel.getInit())
        initBuffer = *buffer;
      return getKernelReadableBuffer(rewriter, loc, *buffer, options);
    };
    FailureOr<Value> input = bufferize(kernel.getInput());
    FailureOr<Value> scales = bufferize(kernel.getScales());
    FailureOr<Value> zeroPoints = bufferize(kernel.getZeroPoints());
    FailureOr<Value> moves = bufferize(kernel.getMoves());
    FailureOr<Value> codes = bufferize(kernel.getCodes());
    FailureOr<Value> init = bufferize(kernel.getInit());
    if (failed(input) || failed(scales) || failed(zeroPoints) ||
        failed(moves) || failed(codes) || failed(init))
      return failure();
    QLinearKernelOp::create(rewriter, loc, *input, *scales, *zeroPoints, *moves,
                            *codes, *init, kernel.getBits(),
                            kernel.getGroupSize(), kernel.getTransposeWeight());
    if (*init != initBuffer &&
        failed(options.createMemCpy(rewriter, loc, *init, initBuffer)))
      return failure();
    replaceOpWithBufferizedValues(rewriter, op, initBuffer);
    return success();
  }
};

} // namespace

void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, QAFDialect *) {
    QLinearKernelOp::attachInterface<QLinearKernelOpInterface>(*context);
  });
}

} // namespace qaf

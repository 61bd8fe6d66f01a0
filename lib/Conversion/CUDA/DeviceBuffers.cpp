//===- DeviceBuffers.cpp - buffers of the CUDA target live on the device --===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// A cuda artifact's entry points take and return device pointers only
// (docs/artifact-abi.md), and every kernel reads and writes device memory.
// Two passes make the bufferized host code agree:
// - qaf-cuda-device-buffers, before the deallocation pipeline: every
//   allocation becomes gpu.alloc and every constant a device copy of its
//   global, so the ownership-based deallocation frees them like any buffer;
// - qaf-cuda-host-access-to-device, after it: the frees of device buffers
//   become gpu.dealloc, and the few element reads and writes left on the
//   host (a scalar that sizes a result, a cache length) become a
//   one-thread launch that moves the element to or from a one-element
//   device buffer, copied to or from host stack memory by gpu.memcpy.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Buffers.h"
#include "qaf/Conversion/CUDA/Pipeline.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

using namespace mlir;

namespace qaf {
namespace {

struct DeviceBuffersPass
    : PassWrapper<DeviceBuffersPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(DeviceBuffersPass)
  StringRef getArgument() const override { return "qaf-cuda-device-buffers"; }
  StringRef getDescription() const override {
    return "Allocate every buffer on the device (gpu.alloc) and copy "
           "constants to device buffers";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect, memref::MemRefDialect>();
  }

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<memref::AllocOp, memref::GetGlobalOp>(op) && isCUDAHostCode(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      // After a constant's global, which the copy reads.
      if (isa<memref::GetGlobalOp>(op))
        rewriter.setInsertionPointAfter(op);
      else
        rewriter.setInsertionPoint(op);
      auto type = cast<MemRefType>(op->getResult(0).getType());
      ValueRange dynamicSizes, symbols;
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        dynamicSizes = alloc.getDynamicSizes();
        symbols = alloc.getSymbolOperands();
      }
      auto device = gpu::AllocOp::create(
          rewriter, op->getLoc(), type, /*asyncToken=*/Type(),
          /*asyncDependencies=*/ValueRange(), dynamicSizes, symbols,
          /*hostShared=*/false);
      if (isa<memref::AllocOp>(op)) {
        rewriter.replaceOp(op, device.getMemref());
        continue;
      }
      // A constant's values are copied on each call: the buffer is the
      // call's own, freed with the others.
      auto copy = gpu::MemcpyOp::create(rewriter, op->getLoc(),
                                        /*asyncToken=*/Type(), ValueRange(),
                                        device.getMemref(), op->getResult(0));
      rewriter.replaceAllUsesExcept(op->getResult(0), device.getMemref(), copy);
    }
  }
};

/// Whether `buffer` is host memory: a stack or heap allocation the host
/// code made for itself (the deallocation pipeline's bookkeeping, the
/// staging of a transfer); everything else is device memory.
bool isHostBuffer(Value buffer) {
  return isa_and_nonnull<memref::AllocOp, memref::AllocaOp>(
      qaf::getRootBuffer(buffer).getDefiningOp());
}

struct HostAccessToDevicePass
    : PassWrapper<HostAccessToDevicePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(HostAccessToDevicePass)
  StringRef getArgument() const override {
    return "qaf-cuda-host-access-to-device";
  }
  StringRef getDescription() const override {
    return "Free device buffers with gpu.dealloc and move the host's element "
           "reads and writes of device buffers through gpu.memcpy";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry
        .insert<arith::ArithDialect, gpu::GPUDialect, memref::MemRefDialect>();
  }

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> ops;
    getOperation().walk([&](func::FuncOp func) {
      // The deallocation pipeline's private helpers compare host copies of
      // pointers; they never see a device element.
      if (func.isPrivate() && !func->hasAttr("llvm.emit_c_interface") &&
          func.getSymName().starts_with("dealloc_helper"))
        return;
      func.walk([&](Operation *op) {
        if (isa<memref::DeallocOp, memref::LoadOp, memref::StoreOp>(op) &&
            isCUDAHostCode(op))
          ops.push_back(op);
      });
    });
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      Location loc = op->getLoc();
      if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        if (isHostBuffer(dealloc.getMemref()))
          continue;
        gpu::DeallocOp::create(rewriter, loc, /*asyncToken=*/Type(),
                               ValueRange(), dealloc.getMemref());
        rewriter.eraseOp(op);
        continue;
      }
      if (auto load = dyn_cast<memref::LoadOp>(op)) {
        if (isHostBuffer(load.getMemref()))
          continue;
        Value staging = createDeviceStaging(rewriter, loc, load.getType());
        Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
        launchSingleThread(rewriter, loc, [&] {
          Value element = memref::LoadOp::create(
              rewriter, loc, load.getMemref(), load.getIndices());
          memref::StoreOp::create(rewriter, loc, element, staging,
                                  ValueRange{zero});
        });
        auto host = memref::AllocaOp::create(
            rewriter, loc, cast<MemRefType>(staging.getType()));
        gpu::MemcpyOp::create(rewriter, loc, Type(), ValueRange(), host,
                              staging);
        gpu::DeallocOp::create(rewriter, loc, Type(), ValueRange(), staging);
        rewriter.replaceOpWithNewOp<memref::LoadOp>(op, host, ValueRange{zero});
        continue;
      }
      auto store = cast<memref::StoreOp>(op);
      if (isHostBuffer(store.getMemref()))
        continue;
      Value value = store.getValueToStore();
      Value staging = createDeviceStaging(rewriter, loc, value.getType());
      Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
      auto host = memref::AllocaOp::create(rewriter, loc,
                                           cast<MemRefType>(staging.getType()));
      memref::StoreOp::create(rewriter, loc, value, host, ValueRange{zero});
      gpu::MemcpyOp::create(rewriter, loc, Type(), ValueRange(), staging, host);
      launchSingleThread(rewriter, loc, [&] {
        Value element =
            memref::LoadOp::create(rewriter, loc, staging, ValueRange{zero});
        memref::StoreOp::create(rewriter, loc, element, store.getMemref(),
                                store.getIndices());
      });
      gpu::DeallocOp::create(rewriter, loc, Type(), ValueRange(), staging);
      rewriter.eraseOp(op);
    }
  }

private:
  /// A one-element device buffer: gpu.memcpy copies whole buffers of the
  /// identity layout, never an element at an offset.
  static Value createDeviceStaging(RewriterBase &rewriter, Location loc,
                                   Type elementType) {
    return gpu::AllocOp::create(rewriter, loc,
                                MemRefType::get({1}, elementType), Type(),
                                ValueRange(), ValueRange(), ValueRange(),
                                /*hostShared=*/false)
        .getMemref();
  }

  /// A launch of one thread running what `buildBody` builds; the insertion
  /// point is after it on return.
  static void launchSingleThread(RewriterBase &rewriter, Location loc,
                                 function_ref<void()> buildBody) {
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    auto launch =
        gpu::LaunchOp::create(rewriter, loc, one, one, one, one, one, one);
    rewriter.setInsertionPointToStart(&launch.getBody().front());
    buildBody();
    gpu::TerminatorOp::create(rewriter, loc);
    rewriter.setInsertionPointAfter(launch);
  }
};

} // namespace

std::unique_ptr<Pass> createDeviceBuffersPass() {
  return std::make_unique<DeviceBuffersPass>();
}

std::unique_ptr<Pass> createHostAccessToDevicePass() {
  return std::make_unique<HostAccessToDevicePass>();
}

} // namespace qaf

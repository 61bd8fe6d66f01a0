//===- InitAll.cpp - register qaf's dialects, passes and targets ----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/InitAll.h"

#include "qaf/Autodiff/CausalLMLoss.h"
#include "qaf/Conversion/AdapterAlgebraInterfaceImpl.h"
#include "qaf/Conversion/CUDAKernelPasses.h"
#include "qaf/Conversion/CUDA/Pipeline.h"
#include "qaf/Conversion/Passes.h"
#include "qaf/Conversion/Pipelines.h"
#include "qaf/Interfaces/GradientOpInterface.h"
#include "qaf/Target/CPU/CPUTargetBackend.h"
#include "qaf/Target/CUDA/CUDATargetBackend.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/qaf/BufferizableOpInterfaceImpl.h"
#include "qaf/dialects/qaf/QAFDialect.h"
#include "qaf/passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

void qaf::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<qaf::onnx::ONNXDialect, qaf::QAFDialect>();
  qaf::registerBufferizableOpInterfaceExternalModels(registry);
  qaf::registerONNXGradientModels(registry);
  qaf::registerQAFGradientModels(registry);
  qaf::registerAdapterAlgebraExternalModels(registry);
  // The lowering goes through most upstream dialects (linalg, tensor,
  // bufferization, scf, vector, omp, llvm, ...) and their interface
  // implementations; registering them all keeps every stage parseable.
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // The CUDA target's gpu-module-to-binary serializes kernel modules
  // through the NVVM target, which translates them to LLVM IR in the
  // pipeline's context.
  mlir::NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
}

void qaf::registerAllPasses() {
  mlir::registerAllPasses();
  qaf::registerPasses();
  qaf::registerQAFConversionPasses();
  qaf::registerQAFCUDAKernelPasses();
  qaf::registerLowerToLinalgPipeline();
  qaf::registerLowerToCPUPipeline();
  qaf::registerLowerToCUDAPipeline();
  qaf::registerTestGradientsPass();
  qaf::registerTestCausalLMLossPass();
}

void qaf::registerAllTargetBackends() {
  qaf::registerCPUTargetBackend();
  qaf::registerCUDATargetBackend();
}

//===- TargetBackend.h - what a code generation target provides -*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// A target (`qaf-compile --target=<name>`) is one implementation of
// TargetBackend, as IREE's target backends are: the passes that take a
// module from the target-neutral linalg phase down to the LLVM dialect
// (built on the shared onnx/qaf -> linalg pipeline), code generation from
// there, and the link into the artifact's library. The compile driver knows
// targets only through this interface and the registry below.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_TARGET_TARGETBACKEND_H
#define QAF_TARGET_TARGETBACKEND_H

#include "qaf/Target/Phase.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/LLVM.h"
#include "mlir/Support/Timing.h"

#include <functional>
#include <memory>
#include <string>

namespace qaf {

struct ArtifactDescription;

/// What the command line says about the code to generate; each target reads
/// the fields that apply to it.
struct TargetOptions {
  /// The CPU to generate code for: an LLVM CPU name (`znver3`,
  /// `x86-64-v3`), or `native` for the host's CPU and features.
  std::string cpu = "native";
  /// LLVM optimization level, 0-3.
  unsigned optLevel = 3;
  /// Whether the generated code checks its inputs at run time (index
  /// bounds, sizes, allocations) and reports failures; off only to measure
  /// what the checks cost.
  bool runtimeChecks = true;
  /// cuda: the GPU architecture (`sm_80`, `sm_90`), the tensor-core input
  /// precision of the dense matmuls (`tf32`, `bf16`) and the CUDA toolkit
  /// whose ptxas and libdevice the compile uses.
  std::string cudaArch = "sm_80";
  std::string cudaMatmulPrecision = "tf32";
  std::string cudaToolkit = "/usr/local/cuda";
};

/// An entry point as the artifact exposes it (docs/artifact-abi.md).
struct EntryPointABI {
  /// The function's name in the module, e.g. `infer`.
  std::string name;
  /// Whether it returns anything (then args[0] points to the results).
  bool hasResults = true;
};

class TargetBackend {
public:
  virtual ~TargetBackend();

  /// The name `--target=` selects it by.
  virtual llvm::StringRef getName() const = 0;

  /// Checks the options and resolves what they leave to the machine the
  /// compiler runs on (`native`); called once, before anything is compiled.
  virtual mlir::LogicalResult initialize(mlir::Location loc) = 0;

  /// Adds the passes that take a module from phase `from` to phase `to`
  /// (Outlined <= from <= to <= LLVM). The part up to Linalg is the shared
  /// pipeline (buildLinalgPipeline), configured for this target.
  virtual void buildPipeline(mlir::OpPassManager &pm, Phase from,
                             Phase to) const = 0;

  /// Whether the shared pipeline's first stage (-> Outlined) fuses attention
  /// spelled out op by op into qaf.kernel.attention, for this target's
  /// fused kernel.
  virtual bool fusesAttention() const { return false; }

  /// Generates code for a module in the LLVM phase, with the artifact's
  /// entry points, fingerprint and the library's description of itself
  /// (`libraryABI`, JSON written by writeLibraryABI, exported as
  /// `qaf_artifact_abi`): LLVM IR text when `phase` is Phase::LLVMIR, an
  /// object file when it is Phase::Object.
  virtual mlir::LogicalResult
  emit(mlir::ModuleOp module, llvm::ArrayRef<EntryPointABI> entryPoints,
       llvm::StringRef fingerprint, llvm::StringRef libraryABI, Phase phase,
       llvm::StringRef outputPath, mlir::TimingScope *timing) const = 0;

  /// Links an object written by `emit` into the artifact's library.
  virtual mlir::LogicalResult link(llvm::StringRef objectPath,
                                   llvm::StringRef libraryPath,
                                   mlir::Location loc) const = 0;

  /// Records the target in the artifact's manifest.
  virtual void describeTarget(ArtifactDescription &description) const = 0;
};

/// Creates a target's backend from the command line's options.
using TargetBackendFactory =
    std::function<std::unique_ptr<TargetBackend>(const TargetOptions &)>;

/// A registered target: its name, a one-line description for `--help`, and
/// how to create it.
struct TargetBackendInfo {
  std::string name;
  std::string description;
  TargetBackendFactory create;
};

/// Makes a target available by name (done by registerAllTargetBackends in
/// qaf/InitAll.h).
void registerTargetBackend(llvm::StringRef name, llvm::StringRef description,
                           TargetBackendFactory create);

/// The registered targets, in registration order.
llvm::ArrayRef<TargetBackendInfo> getRegisteredTargetBackends();

/// The target called `name`, or null when none is registered under it.
const TargetBackendInfo *lookupTargetBackend(llvm::StringRef name);

/// "cpu, ...": the registered targets' names, for errors.
std::string getTargetBackendNameList();

} // namespace qaf

#endif // QAF_TARGET_TARGETBACKEND_H

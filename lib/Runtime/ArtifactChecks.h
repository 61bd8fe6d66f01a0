//===- ArtifactChecks.h - checks shared by the artifact's calls -*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// What the CPU and the CUDA halves of qaf::Artifact's calls share
// (Artifact.cpp, ArtifactCuda.cpp); private to lib/Runtime.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_RUNTIME_ARTIFACTCHECKS_H
#define QAF_LIB_RUNTIME_ARTIFACTCHECKS_H

#include "qaf/Runtime/Artifact.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

namespace qaf {

/// Checks a shape (of an input, or of an output the code returned) against
/// its manifest spec; new symbols are bound, bound ones must agree. `what`
/// names the tensor (`input 'x'`) and `boundBy` records which tensor bound
/// each symbol, for the message.
llvm::Error checkShape(const TensorSpec &spec, llvm::ArrayRef<int64_t> shape,
                       llvm::StringRef what, DimBindings &bindings,
                       llvm::StringMap<std::string> &boundBy);

/// The outputs an entry point returns (those not written into an input's
/// buffer), in manifest order, and their ranks.
struct ReturnedOutputs {
  llvm::SmallVector<const TensorSpec *> specs;
  llvm::SmallVector<int64_t> ranks;
};
ReturnedOutputs getReturnedOutputs(const EntryPoint &entry);

/// The returned outputs of a call as tensors (`makeTensor(i, spec, what)`
/// makes output i from its result descriptor), each checked against its
/// manifest shape under `bindings`.
llvm::Expected<std::vector<NamedTensor>> collectOutputs(
    const EntryPoint &entry, llvm::ArrayRef<const TensorSpec *> returned,
    DimBindings &bindings,
    llvm::function_ref<llvm::Expected<HostTensor>(size_t, const TensorSpec &,
                                                  llvm::StringRef)>
        makeTensor);

} // namespace qaf

#endif // QAF_LIB_RUNTIME_ARTIFACTCHECKS_H

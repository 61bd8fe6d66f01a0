//===- Phase.h - the phases of a compilation --------------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_TARGET_PHASE_H
#define QAF_TARGET_PHASE_H

#include "mlir/Pass/PassOptions.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace qaf {

/// Where a compilation stands, in order. qaf-compile stops after any phase
/// (`--compile-to=`) and resumes from any phase up to `LLVM`; the lowering
/// pipelines run from one phase to a later one. Phases up to `Linalg` are
/// the same for every target; later ones are each target's own.
enum class Phase {
  ONNX,     ///< the onnx dialect as imported
  Outlined, ///< weights outlined into entry point arguments
  Linalg,   ///< linalg on tensors, fused
  Loops,    ///< buffers, kernel calls and parallel loops
  LLVM,     ///< the LLVM dialect: the last phase whose output is MLIR
  LLVMIR,   ///< LLVM IR text (.ll)
  Object,   ///< an object file (.o)
  Artifact, ///< library + weights + manifest in a folder
};

/// A phase's name on the command line and in pipeline options, and what the
/// IR looks like once a module reached it.
struct PhaseInfo {
  Phase phase;
  llvm::StringLiteral name;
  llvm::StringLiteral description;
};

/// Every phase, in order: the one table that option parsing, messages and
/// help texts read.
llvm::ArrayRef<PhaseInfo> getPhaseTable();

llvm::StringRef getPhaseName(Phase phase);

/// The phase called `name`, or nullopt.
std::optional<Phase> parsePhase(llvm::StringRef name);

/// "onnx, outlined, ..., artifact": the names, for help texts and errors.
std::string getPhaseNameList();

/// Lets a pass pipeline option of type Phase take the phases by name
/// (`qaf-lower-to-cpu{from=linalg}`).
void addPhaseNames(mlir::detail::PassOptions::Option<Phase> &option);

} // namespace qaf

#endif // QAF_TARGET_PHASE_H

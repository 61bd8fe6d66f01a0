//===- SplitLargeFunctions.h - Bounded-size functions for LLVM ---*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A model's entry point is one function that calls every loop and kernel of
// the model in turn (train_step: the forward, the backward and the
// optimizer of every block, with their run-time checks). LLVM's function
// passes (InstCombine, CorrelatedValuePropagation, JumpThreading, the
// register allocator) are superlinear in the size of one function, so the
// entry point of a deep model dominated its compile time. Splitting it into
// a sequence of calls to functions of bounded size makes that time linear
// in the depth, and lets the pieces be compiled on different cores.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_TARGET_CPU_SPLITLARGEFUNCTIONS_H
#define QAF_TARGET_CPU_SPLITLARGEFUNCTIONS_H

namespace llvm {
class Module;
} // namespace llvm

namespace qaf {

/// Moves the straight-line code of every function of `module` with more
/// than 2 x `pieceInstructions` instructions into internal noinline
/// functions of about `pieceInstructions` instructions each, called in
/// order from the original. Only code that runs at most once per call of
/// the function is moved (a loop stays whole, inside one piece), and a
/// piece is entered and left at one block, so the behaviour is unchanged.
/// Returns the number of functions created.
unsigned splitLargeFunctions(llvm::Module &module, unsigned pieceInstructions);

} // namespace qaf

#endif // QAF_TARGET_CPU_SPLITLARGEFUNCTIONS_H

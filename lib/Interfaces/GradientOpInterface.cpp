//===- GradientOpInterface.cpp - reverse-mode rules of ops ----------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Interfaces/GradientOpInterface.h"

#include "qaf/Interfaces/GradientOpInterface.cpp.inc"

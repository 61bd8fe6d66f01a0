//===- ONNXShapeHelpersTest.cpp - shape rules of inference and lowering ---===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Expected shapes follow the ONNX "Broadcasting in ONNX" document and the
// Reduce* operator specs.
//
//===----------------------------------------------------------------------===//

#include "qaf/dialects/onnx/ONNXShapeHelpers.h"

#include "mlir/IR/BuiltinTypeInterfaces.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"

#include "gtest/gtest.h"

#include <string>

using namespace mlir;
using namespace qaf::onnx;

namespace {

using Shape = llvm::SmallVector<int64_t>;
constexpr int64_t kDyn = ShapedType::kDynamic;

TEST(ONNXShapeHelpers, NormalizeAxis) {
  EXPECT_EQ(normalizeAxis(-1, 3), 2);
  EXPECT_EQ(normalizeAxis(0, 3), 0);
  EXPECT_EQ(normalizeAxis(-3, 3), 0);
  EXPECT_EQ(normalizeAxis(3, 3), std::nullopt);
  EXPECT_EQ(normalizeAxis(-4, 3), std::nullopt);
}

TEST(ONNXShapeHelpers, BroadcastShapes) {
  // The examples of the ONNX broadcasting document.
  EXPECT_EQ(broadcastShapes({2, 3, 4, 5}, {}), Shape({2, 3, 4, 5}));
  EXPECT_EQ(broadcastShapes({2, 3, 4, 5}, {5}), Shape({2, 3, 4, 5}));
  EXPECT_EQ(broadcastShapes({4, 5}, {2, 3, 4, 5}), Shape({2, 3, 4, 5}));
  EXPECT_EQ(broadcastShapes({1, 4, 5}, {2, 3, 1, 1}), Shape({2, 3, 4, 5}));
  EXPECT_EQ(broadcastShapes({3, 4, 5}, {2, 1, 1, 1}), Shape({2, 3, 4, 5}));
  EXPECT_EQ(broadcastShapes({3}, {4}), std::nullopt);
  // A dynamic dim takes the other side's static size other than 1.
  EXPECT_EQ(broadcastShapes({kDyn, 3}, {4, 1}), Shape({4, 3}));
  EXPECT_EQ(broadcastShapes({kDyn}, {1}), Shape({kDyn}));
}

TEST(ONNXShapeHelpers, BroadcastDims) {
  // [3] in a rank-2 result: the missing leading dim.
  EXPECT_EQ(getBroadcastDims({3}, 2), Shape({0}));
  // [2, 1] in [2, 3]: the size-1 dim.
  EXPECT_EQ(getBroadcastDims({2, 1}, 2), Shape({1}));
  // [1, 4] in a rank-3 result: dim 0 missing, dim 1 of size 1.
  EXPECT_EQ(getBroadcastDims({1, 4}, 3), Shape({0, 1}));
  // Dynamic dims are never stretched.
  EXPECT_EQ(getBroadcastDims({kDyn, 3}, 2), Shape());
}

TEST(ONNXShapeHelpers, NormalizeAxes) {
  MLIRContext context;
  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  auto emitError = [&] { return mlir::emitError(UnknownLoc::get(&context)); };
  // Sorted, unique, in [0, rank).
  FailureOr<Shape> dims = normalizeAxes({-1, 0, 2}, 3, emitError);
  ASSERT_TRUE(succeeded(dims));
  EXPECT_EQ(*dims, Shape({0, 2}));
  EXPECT_TRUE(failed(normalizeAxes({1, 3}, 3, emitError)));
  EXPECT_EQ(message, "axis 3 is out of range for rank 3");
}

TEST(ONNXShapeHelpers, ReducedShape) {
  EXPECT_EQ(getReducedShape({2, 3, 4}, {0, 2}, /*keepDims=*/true),
            Shape({1, 3, 1}));
  EXPECT_EQ(getReducedShape({2, 3, 4}, {0, 2}, /*keepDims=*/false), Shape({3}));
  EXPECT_EQ(getReducedShape({2, kDyn}, {}, /*keepDims=*/false),
            Shape({2, kDyn}));
}

} // namespace

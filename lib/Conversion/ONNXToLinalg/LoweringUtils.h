//===- LoweringUtils.h - helpers shared by the onnx -> linalg patterns ----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The building blocks every pattern family uses: shapes and broadcasting,
// element-wise and reduction linalg.generic ops, ONNX Cast semantics on
// scalars, and reading constant operands. One rule, one place: a pattern
// never re-derives broadcasting or signedness on its own.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_CONVERSION_ONNXTOLINALG_LOWERINGUTILS_H
#define QAF_LIB_CONVERSION_ONNXTOLINALG_LOWERINGUTILS_H

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>

namespace qaf {

//===----------------------------------------------------------------------===//
// Types and constants
//===----------------------------------------------------------------------===//

/// True when `type` (an element type or a shaped type, taken from the
/// ORIGINAL onnx op before type conversion) has an unsigned integer element
/// type (`ui8`, `ui4`, ...). Signless `i1` (ONNX bool) is not unsigned.
bool isUnsignedElementType(mlir::Type type);

/// The type to compute and accumulate `elementType` in: f32 for floats
/// narrower than 32 bits (f16, bf16: one rounding at the end, and no
/// half-precision math needed from the target), the type itself otherwise.
mlir::Type getComputeType(mlir::Type elementType);

/// The signless counterpart of an element type (`ui8` -> `i8`); others are
/// returned unchanged.
mlir::Type getSignlessElementType(mlir::Type elementType);

/// `attr` with a signless element type (`ui8` -> `i8`, same bits), for
/// arith.constant. Dense attributes are bitcast; `dense_resource` blobs keep
/// their handle (no copy). Returns `attr` when already signless and null for
/// kinds it cannot retype.
mlir::ElementsAttr getSignlessElementsAttr(mlir::ElementsAttr attr);

/// A scalar arith.constant of `type` (float, integer or index) holding
/// `value`; for integers `value` is truncated toward zero first.
mlir::Value createScalarConstant(mlir::OpBuilder &builder, mlir::Location loc,
                                 mlir::Type type, double value);

/// The attribute of a constant tensor: looks through
/// unrealized_conversion_cast to an arith.constant or onnx.Constant. Null
/// otherwise. Pass the ORIGINAL op's operand (see getConstantIntValues).
mlir::ElementsAttr getConstantElements(mlir::Value value);

/// The integer values of a constant tensor: looks through
/// unrealized_conversion_cast to an arith.constant or onnx.Constant with a
/// dense integer attribute (unsigned and i1 zero-extended, others
/// sign-extended). Nullopt otherwise. Pass the ORIGINAL op's operand: an
/// adaptor operand may be a value the conversion has not created yet.
std::optional<llvm::SmallVector<int64_t>>
getConstantIntValues(mlir::Value value);

/// True when `value` is an omitted optional input (`onnx.NoValue`, type
/// `none`).
bool isNoValue(mlir::Value value);

/// Reports a case the lowering does not support: an error on `op` that the
/// user sees (the conversion then fails on that op) and a match failure.
mlir::LogicalResult reportUnsupported(mlir::RewriterBase &rewriter,
                                      mlir::Operation *op,
                                      const llvm::Twine &message);

/// Maps an ONNX axis in [-rank, rank) (the verifiers check the range) to
/// [0, rank).
int64_t normalizeAxis(int64_t axis, int64_t rank);

/// `axis` as a dimension in [0, rank) when it is in [-rank, rank); otherwise
/// reported on `op` ("axis A is out of range for rank R").
mlir::FailureOr<int64_t> getCheckedAxis(mlir::RewriterBase &rewriter,
                                        mlir::Operation *op, int64_t axis,
                                        int64_t rank);

/// The sorted dims in [0, rank) that the constant `axes` name, each in
/// [-rank, rank) and named once; otherwise reported on `op`. (Lowerings read
/// constant axes that shape inference may not have checked.)
mlir::FailureOr<llvm::SmallVector<int64_t>>
getCheckedAxes(mlir::RewriterBase &rewriter, mlir::Operation *op,
               llvm::ArrayRef<int64_t> axes, int64_t rank);

//===----------------------------------------------------------------------===//
// Shapes and broadcasting
//===----------------------------------------------------------------------===//

/// The sizes of a ranked tensor: static sizes as attributes, dynamic ones
/// as `tensor.dim` values.
llvm::SmallVector<mlir::OpFoldResult>
getDims(mlir::OpBuilder &builder, mlir::Location loc, mlir::Value tensor);

/// `tensor.empty` of the given sizes and element type.
mlir::Value createEmptyTensor(mlir::OpBuilder &builder, mlir::Location loc,
                              llvm::ArrayRef<mlir::OpFoldResult> dims,
                              mlir::Type elementType);

/// A run-time check (`qaf.check`): when `condition` is false the entry
/// point fails with `message`, prefixed with the ONNX node's name from
/// `loc`, in which `{0}`, `{1}`, `{2}` stand for `values` (at most three
/// integers or indices). Dropped when `condition` is a constant true.
void emitRuntimeCheck(mlir::OpBuilder &builder, mlir::Location loc,
                      mlir::Value condition, const llvm::Twine &message,
                      mlir::ValueRange values = {});

/// The sizes of the NumPy broadcast of `shapes` (right-aligned), as ONNX
/// Runtime computes them at run time: per dim, every size other than 1 must
/// agree and a size 1 takes the others'. Static sizes are compared here
/// (failure when two differ and neither is 1); a dynamic size is compared at
/// run time, where it may be a 1 that broadcasts (emitRuntimeCheck, with a
/// message naming `opName` and the sizes). A result dim is static when a
/// static size other than 1 decides it.
mlir::FailureOr<llvm::SmallVector<mlir::OpFoldResult>> computeBroadcastSizes(
    mlir::OpBuilder &builder, mlir::Location loc,
    llvm::ArrayRef<llvm::SmallVector<mlir::OpFoldResult>> shapes,
    llvm::StringRef opName);

/// `operand`, of sizes `sizes`, as read by a loop nest over the broadcast
/// result `resultDims` with getBroadcastIndexingMap: each dynamic dim whose
/// size is not the result's own becomes a `tensor.extract_slice` dim of the
/// result's size with stride 1 when the sizes agree at run time and stride 0
/// (its one element repeated) when the operand's is a run-time 1. Static
/// dims are left to the indexing map, so static shapes get no slice.
mlir::Value broadcastDynamicDims(mlir::OpBuilder &builder, mlir::Location loc,
                                 mlir::Value operand,
                                 llvm::ArrayRef<mlir::OpFoldResult> sizes,
                                 llvm::ArrayRef<mlir::OpFoldResult> resultDims);

/// Operands of a multidirectional (NumPy) broadcast, ready for
/// buildElementwise: the result's sizes and each operand through
/// broadcastDynamicDims.
struct BroadcastOperands {
  llvm::SmallVector<mlir::OpFoldResult> dims;
  llvm::SmallVector<mlir::Value> operands;
};

/// computeBroadcastSizes of the shapes of `operands` (ranked tensors), then
/// broadcastDynamicDims of each operand. Fails when two static sizes do not
/// broadcast.
mlir::FailureOr<BroadcastOperands> broadcastOperands(mlir::OpBuilder &builder,
                                                     mlir::Location loc,
                                                     mlir::ValueRange operands,
                                                     llvm::StringRef opName);

/// The indexing map that reads an operand of `operandType` inside a loop
/// nest of `resultRank` dims under NumPy broadcasting: right-aligned, and
/// static size-1 dims read index 0 (dynamic ones go through
/// broadcastDynamicDims).
mlir::AffineMap getBroadcastIndexingMap(mlir::ShapedType operandType,
                                        int64_t resultRank,
                                        mlir::MLIRContext *context);

/// `value` as a tensor of `type` (a `tensor.cast` when only static
/// information differs); returns `value` when the types already agree.
mlir::Value castToTensorType(mlir::OpBuilder &builder, mlir::Location loc,
                             mlir::Value value, mlir::Type type);

//===----------------------------------------------------------------------===//
// linalg builders
//===----------------------------------------------------------------------===//

/// Scalar body of an element-wise or reduction generic: gets the scalars
/// (block arguments) and returns the value to yield.
using ScalarBodyBuilder = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

/// A `tensor.empty` + all-parallel `linalg.generic` over `resultDims` that
/// reads each operand with its broadcasting map and yields `body(scalars)`
/// of `resultElementType`. Operands must be ranked tensors (scalars go in
/// as 0-d tensors).
mlir::Value buildElementwise(mlir::OpBuilder &builder, mlir::Location loc,
                             mlir::ValueRange operands,
                             llvm::ArrayRef<mlir::OpFoldResult> resultDims,
                             mlir::Type resultElementType,
                             ScalarBodyBuilder body);

/// buildElementwise with explicit indexing maps, one per operand, from the
/// `resultDims.size()` loop dims (e.g. the projected maps of reduced
/// statistics read back inside a normalisation).
mlir::Value
buildMappedElementwise(mlir::OpBuilder &builder, mlir::Location loc,
                       mlir::ValueRange operands,
                       llvm::ArrayRef<mlir::AffineMap> maps,
                       llvm::ArrayRef<mlir::OpFoldResult> resultDims,
                       mlir::Type resultElementType, ScalarBodyBuilder body);

/// The map from `rank` loop dims to the dims that remain after reducing the
/// sorted `reductionDims` (which a reduced tensor is indexed by).
mlir::AffineMap getReducedIndexingMap(int64_t rank,
                                      llvm::ArrayRef<int64_t> reductionDims,
                                      mlir::MLIRContext *context);

/// A reduction `linalg.generic` over the sorted, unique `reductionDims` of
/// `inputs[0]`. Each input is either full-rank (read with the identity map)
/// or already reduced (rank minus the reduced dims; read with the projected
/// map, e.g. a max computed before). The accumulator starts at `init` (a
/// scalar whose type is the result element type, filled with linalg.fill)
/// and `combine(elements..., accumulator)` returns its next value. The
/// result drops the reduced dims, or keeps them as size 1 with `keepDims`.
/// `inputMaps`, when given, replaces the maps of the inputs (e.g. broadcasting
/// maps of addends summed on the fly); the loop sizes are those of
/// `inputs[0]`.
mlir::Value buildReduction(mlir::OpBuilder &builder, mlir::Location loc,
                           mlir::ValueRange inputs,
                           llvm::ArrayRef<int64_t> reductionDims,
                           mlir::Value init, bool keepDims,
                           ScalarBodyBuilder combine,
                           llvm::ArrayRef<mlir::AffineMap> inputMaps = {});

/// Re-inserts the `reductionDims` (sorted) of a rank-`fullRank` tensor as
/// size-1 dims into `reduced`, with `tensor.expand_shape`.
mlir::Value expandReducedDims(mlir::OpBuilder &builder, mlir::Location loc,
                              mlir::Value reduced,
                              llvm::ArrayRef<int64_t> reductionDims,
                              int64_t fullRank);

//===----------------------------------------------------------------------===//
// Scalars
//===----------------------------------------------------------------------===//

/// Converts a scalar with ONNX Cast semantics: float<->float (extf/truncf),
/// int<->int (extsi/extui/trunci, by the source's signedness), float->int
/// truncating toward zero (NaN gives 0 and out-of-range values saturate, so
/// the result is always defined; 4/2-bit targets wrap as the ONNX reference
/// does), int->float (sitofp/uitofp), anything ->
/// bool as `!= 0` (NaN is true), bool -> anything as 0/1. `to` is the
/// signless target type; the flags give the ONNX signedness of both sides.
mlir::Value convertScalar(mlir::OpBuilder &builder, mlir::Location loc,
                          mlir::Value value, mlir::Type to, bool fromUnsigned,
                          bool toUnsigned);

/// The scalar of a tensor with one element (any rank), by `tensor.extract`.
mlir::Value extractScalar(mlir::OpBuilder &builder, mlir::Location loc,
                          mlir::Value tensor);

} // namespace qaf

#endif // QAF_LIB_CONVERSION_ONNXTOLINALG_LOWERINGUTILS_H

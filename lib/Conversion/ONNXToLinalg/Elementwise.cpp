//===- Elementwise.cpp - element-wise onnx ops -> linalg.generic ----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Every element-wise op becomes one all-parallel linalg.generic on tensors
// (with NumPy broadcasting in its indexing maps), so that chains of them
// fuse later with linalg-fuse-elementwise-ops. One pattern takes every op
// with the ONNX_Elementwise trait and reads ONNX_MultidirectionalBroadcast
// for its shape; each op adds only its scalar body. The scalar bodies keep the
// ONNX signedness, read from the original op's types: the converted values
// are signless.
//
//===----------------------------------------------------------------------===//

#include "LoweringPattern.h"
#include "LoweringUtils.h"
#include "Patterns.h"

#include "qaf/dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <functional>

using namespace mlir;

namespace qaf {
namespace {

//===----------------------------------------------------------------------===//
// Scalar helpers
//===----------------------------------------------------------------------===//

bool isFloat(Type type) { return isa<FloatType>(type); }

/// Applies `fn` to `args` widened to the compute type of `elementType`, and
/// rounds the result back to `elementType`: half-precision math is computed
/// in f32 and rounded once, as ONNX Runtime does.
Value computeWidened(
    OpBuilder &b, Location loc, Type elementType, ValueRange args,
    function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  Type compute = getComputeType(elementType);
  SmallVector<Value> widened;
  for (Value arg : args)
    widened.push_back(convertScalar(b, loc, arg, compute, false, false));
  Value result = fn(b, loc, widened);
  return convertScalar(b, loc, result, elementType, false, false);
}

//===----------------------------------------------------------------------===//
// Scalar bodies, one per op. Each gets the original op (for signedness and
// attributes), the scalars in operand order and the result element type.
//===----------------------------------------------------------------------===//

template <typename OpTy>
using ScalarFn = Value (*)(OpBuilder &, Location, OpTy, ValueRange, Type);

/// A scalar body for any op: the typed ScalarFn behind a cast.
using ScalarBody =
    std::function<Value(OpBuilder &, Location, Operation *, ValueRange, Type)>;

Value buildAdd(OpBuilder &b, Location loc, onnx::AddOp, ValueRange args, Type) {
  if (isFloat(args[0].getType()))
    return arith::AddFOp::create(b, loc, args[0], args[1]);
  return arith::AddIOp::create(b, loc, args[0], args[1]);
}

Value buildSub(OpBuilder &b, Location loc, onnx::SubOp, ValueRange args, Type) {
  if (isFloat(args[0].getType()))
    return arith::SubFOp::create(b, loc, args[0], args[1]);
  return arith::SubIOp::create(b, loc, args[0], args[1]);
}

Value buildMul(OpBuilder &b, Location loc, onnx::MulOp, ValueRange args, Type) {
  if (isFloat(args[0].getType()))
    return arith::MulFOp::create(b, loc, args[0], args[1]);
  return arith::MulIOp::create(b, loc, args[0], args[1]);
}

Value buildDiv(OpBuilder &b, Location loc, onnx::DivOp op, ValueRange args,
               Type) {
  if (isFloat(args[0].getType()))
    return arith::DivFOp::create(b, loc, args[0], args[1]);
  // ONNX integer division truncates toward zero, as C does.
  if (isUnsignedElementType(op.getA().getType()))
    return arith::DivUIOp::create(b, loc, args[0], args[1]);
  return arith::DivSIOp::create(b, loc, args[0], args[1]);
}

/// True when `value` is a constant whose elements are all 2.
bool isConstantTwo(Value value) {
  auto dense =
      dyn_cast_if_present<DenseElementsAttr>(getConstantElements(value));
  if (!dense || !dense.isSplat())
    return false;
  if (auto floats = dyn_cast<DenseFPElementsAttr>(dense))
    return floats.getSplatValue<APFloat>().isExactlyValue(2.0);
  return dense.getSplatValue<APInt>() == 2;
}

Value buildPow(OpBuilder &b, Location loc, onnx::PowOp op, ValueRange args,
               Type resultType) {
  Value base = args[0], exponent = args[1];
  bool baseUnsigned = isUnsignedElementType(op.getX().getType());
  bool exponentUnsigned = isUnsignedElementType(op.getY().getType());
  if (isFloat(resultType)) {
    // x^2 (exported RMSNorm/LayerNorm graphs square this way) is one
    // multiply, and exactly what a correctly rounded powf gives.
    if (isConstantTwo(op.getY()))
      return arith::MulFOp::create(b, loc, base, base);
    // A float base: the exponent (float or int) joins the base's compute
    // type; powf handles negative bases with integral exponents.
    Type compute = getComputeType(resultType);
    Value x = convertScalar(b, loc, base, compute, false, false);
    Value y = convertScalar(b, loc, exponent, compute, exponentUnsigned, false);
    Value result = math::PowFOp::create(b, loc, x, y);
    return convertScalar(b, loc, result, resultType, false, false);
  }
  if (isFloat(exponent.getType())) {
    // Integer base, float exponent: as ONNX Runtime, in double precision,
    // truncated back to the base's type.
    Type f64 = b.getF64Type();
    Value x = convertScalar(b, loc, base, f64, baseUnsigned, false);
    Value y = convertScalar(b, loc, exponent, f64, false, false);
    Value result = math::PowFOp::create(b, loc, x, y);
    return convertScalar(b, loc, result, resultType, false, baseUnsigned);
  }
  Value y =
      convertScalar(b, loc, exponent, resultType, exponentUnsigned, false);
  return math::IPowIOp::create(b, loc, base, y);
}

/// A comparison with the predicate for each kind of operand. Float
/// predicates are ordered: any comparison with NaN is false, as in ONNX.
Value buildCompare(OpBuilder &b, Location loc, ValueRange args, bool isUnsigned,
                   arith::CmpFPredicate floatPredicate,
                   arith::CmpIPredicate signedPredicate,
                   arith::CmpIPredicate unsignedPredicate) {
  if (isFloat(args[0].getType()))
    return arith::CmpFOp::create(b, loc, floatPredicate, args[0], args[1]);
  // Bools compare as 0 < 1.
  bool asUnsigned = isUnsigned || args[0].getType().isInteger(1);
  return arith::CmpIOp::create(b, loc,
                               asUnsigned ? unsignedPredicate : signedPredicate,
                               args[0], args[1]);
}

Value buildEqual(OpBuilder &b, Location loc, onnx::EqualOp, ValueRange args,
                 Type) {
  return buildCompare(b, loc, args, false, arith::CmpFPredicate::OEQ,
                      arith::CmpIPredicate::eq, arith::CmpIPredicate::eq);
}

Value buildLess(OpBuilder &b, Location loc, onnx::LessOp op, ValueRange args,
                Type) {
  return buildCompare(b, loc, args, isUnsignedElementType(op.getA().getType()),
                      arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
                      arith::CmpIPredicate::ult);
}

Value buildLessOrEqual(OpBuilder &b, Location loc, onnx::LessOrEqualOp op,
                       ValueRange args, Type) {
  return buildCompare(b, loc, args, isUnsignedElementType(op.getA().getType()),
                      arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle,
                      arith::CmpIPredicate::ule);
}

Value buildGreater(OpBuilder &b, Location loc, onnx::GreaterOp op,
                   ValueRange args, Type) {
  return buildCompare(b, loc, args, isUnsignedElementType(op.getA().getType()),
                      arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
                      arith::CmpIPredicate::ugt);
}

Value buildGreaterOrEqual(OpBuilder &b, Location loc, onnx::GreaterOrEqualOp op,
                          ValueRange args, Type) {
  return buildCompare(b, loc, args, isUnsignedElementType(op.getA().getType()),
                      arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge,
                      arith::CmpIPredicate::uge);
}

Value buildAnd(OpBuilder &b, Location loc, onnx::AndOp, ValueRange args, Type) {
  return arith::AndIOp::create(b, loc, args[0], args[1]);
}

Value buildOr(OpBuilder &b, Location loc, onnx::OrOp, ValueRange args, Type) {
  return arith::OrIOp::create(b, loc, args[0], args[1]);
}

Value buildNot(OpBuilder &b, Location loc, onnx::NotOp, ValueRange args, Type) {
  Value trueValue = arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
  return arith::XOrIOp::create(b, loc, args[0], trueValue);
}

/// NaN is the one value unordered with itself. Half-precision inputs widen
/// first (exactly: NaN stays NaN) since not every target compares them.
Value buildIsNaN(OpBuilder &b, Location loc, onnx::IsNaNOp, ValueRange args,
                 Type) {
  Value x = convertScalar(b, loc, args[0], getComputeType(args[0].getType()),
                          false, false);
  return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, x, x);
}

/// Unary float math ops: the math dialect op, widened for f16/bf16.
template <typename MathOp, typename OpTy>
Value buildUnaryMath(OpBuilder &b, Location loc, OpTy, ValueRange args,
                     Type resultType) {
  return computeWidened(b, loc, resultType, args,
                        [](OpBuilder &nb, Location nl, ValueRange x) -> Value {
                          return MathOp::create(nb, nl, x[0]);
                        });
}

Value buildReciprocal(OpBuilder &b, Location loc, onnx::ReciprocalOp,
                      ValueRange args, Type resultType) {
  Value one = createScalarConstant(b, loc, resultType, 1.0);
  return arith::DivFOp::create(b, loc, one, args[0]);
}

Value buildNeg(OpBuilder &b, Location loc, onnx::NegOp, ValueRange args,
               Type resultType) {
  if (isFloat(resultType))
    return arith::NegFOp::create(b, loc, args[0]);
  Value zero = createScalarConstant(b, loc, resultType, 0);
  return arith::SubIOp::create(b, loc, zero, args[0]);
}

Value buildAbs(OpBuilder &b, Location loc, onnx::AbsOp op, ValueRange args,
               Type resultType) {
  if (isFloat(resultType))
    return math::AbsFOp::create(b, loc, args[0]);
  if (isUnsignedElementType(op.getX().getType()))
    return args[0];
  return math::AbsIOp::create(b, loc, args[0]);
}

/// 1 / (1 + e^-|x|) and its mirror e^-|x| / (1 + e^-|x|): e^-|x| never
/// overflows, so both tails are accurate.
Value buildSigmoid(OpBuilder &b, Location loc, onnx::SigmoidOp, ValueRange args,
                   Type resultType) {
  return computeWidened(
      b, loc, resultType, args,
      [](OpBuilder &nb, Location nl, ValueRange x) -> Value {
        Type type = x[0].getType();
        Value one = createScalarConstant(nb, nl, type, 1.0);
        Value zero = createScalarConstant(nb, nl, type, 0.0);
        Value magnitude = math::AbsFOp::create(nb, nl, x[0]);
        Value e = math::ExpOp::create(nb, nl,
                                      arith::NegFOp::create(nb, nl, magnitude));
        Value positive = arith::DivFOp::create(
            nb, nl, one, arith::AddFOp::create(nb, nl, one, e));
        Value negative = arith::MulFOp::create(nb, nl, e, positive);
        Value isNonNegative = arith::CmpFOp::create(
            nb, nl, arith::CmpFPredicate::OGE, x[0], zero);
        // NaN takes the `negative` branch, which is NaN as well.
        return arith::SelectOp::create(nb, nl, isNonNegative, positive,
                                       negative);
      });
}

Value buildRelu(OpBuilder &b, Location loc, onnx::ReluOp, ValueRange args,
                Type resultType) {
  if (isFloat(resultType)) {
    Value zero = createScalarConstant(b, loc, resultType, 0.0);
    return arith::MaximumFOp::create(b, loc, args[0], zero);
  }
  Value zero = createScalarConstant(b, loc, resultType, 0);
  return arith::MaxSIOp::create(b, loc, args[0], zero);
}

Value buildGelu(OpBuilder &b, Location loc, onnx::GeluOp op, ValueRange args,
                Type resultType) {
  bool useTanh = op.getApproximate() == "tanh";
  return computeWidened(
      b, loc, resultType, args,
      [useTanh](OpBuilder &nb, Location nl, ValueRange x) -> Value {
        Type type = x[0].getType();
        Value half = createScalarConstant(nb, nl, type, 0.5);
        Value one = createScalarConstant(nb, nl, type, 1.0);
        Value inner;
        if (useTanh) {
          // tanh(sqrt(2/pi) * (x + 0.044715 x^3))
          Value cube = arith::MulFOp::create(
              nb, nl, x[0], arith::MulFOp::create(nb, nl, x[0], x[0]));
          Value poly = arith::AddFOp::create(
              nb, nl, x[0],
              arith::MulFOp::create(
                  nb, nl, createScalarConstant(nb, nl, type, 0.044715), cube));
          inner = math::TanhOp::create(
              nb, nl,
              arith::MulFOp::create(
                  nb, nl,
                  createScalarConstant(nb, nl, type, std::sqrt(2.0 / M_PI)),
                  poly));
        } else {
          // erf(x / sqrt(2))
          inner = math::ErfOp::create(
              nb, nl,
              arith::MulFOp::create(
                  nb, nl, x[0], createScalarConstant(nb, nl, type, M_SQRT1_2)));
        }
        Value scaled = arith::MulFOp::create(nb, nl, half, x[0]);
        return arith::MulFOp::create(nb, nl, scaled,
                                     arith::AddFOp::create(nb, nl, one, inner));
      });
}

Value buildWhere(OpBuilder &b, Location loc, onnx::WhereOp, ValueRange args,
                 Type) {
  return arith::SelectOp::create(b, loc, args[0], args[1], args[2]);
}

/// Max and Min fold their operands left to right. Float versions propagate
/// NaN, as ONNX Runtime does.
template <bool IsMax, typename OpTy>
Value buildMaxMin(OpBuilder &b, Location loc, OpTy op, ValueRange args,
                  Type resultType) {
  bool isUnsigned = isUnsignedElementType(op->getOperand(0).getType());
  Value result = args[0];
  for (Value arg : args.drop_front()) {
    if (isFloat(resultType)) {
      result = IsMax
                   ? arith::MaximumFOp::create(b, loc, result, arg).getResult()
                   : arith::MinimumFOp::create(b, loc, result, arg).getResult();
    } else if (isUnsigned) {
      result = IsMax ? arith::MaxUIOp::create(b, loc, result, arg).getResult()
                     : arith::MinUIOp::create(b, loc, result, arg).getResult();
    } else {
      result = IsMax ? arith::MaxSIOp::create(b, loc, result, arg).getResult()
                     : arith::MinSIOp::create(b, loc, result, arg).getResult();
    }
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// Every op with the ONNX_Elementwise trait: one all-parallel generic over
/// the result's dims (the NumPy broadcast of the operands for
/// MultidirectionalBroadcast ops, the operand's dims for the others) whose
/// body is the op's scalar body from `bodies`.
struct ElementwiseLowering
    : OpTraitConversionPattern<onnx::OpTrait::Elementwise> {
  ElementwiseLowering(const TypeConverter &converter, MLIRContext *context,
                      llvm::DenseMap<TypeID, ScalarBody> bodies)
      : OpTraitConversionPattern(converter, context),
        bodies(std::move(bodies)) {}

  LogicalResult
  matchAndRewrite(Operation *op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    auto body = bodies.find(op->getName().getTypeID());
    if (body == bodies.end())
      return reportUnsupported(rewriter, op,
                               "element-wise op without a scalar body in the "
                               "lowering");
    SmallVector<TensorType> resultTypes;
    if (failed(checkLoweringPreconditions(*getTypeConverter(), rewriter, op,
                                          operands, ResultRank::Any,
                                          resultTypes)))
      return failure();
    Location loc = op->getLoc();
    BroadcastOperands broadcast;
    if (op->hasTrait<onnx::OpTrait::MultidirectionalBroadcast>()) {
      FailureOr<BroadcastOperands> broadcastOrFailure = broadcastOperands(
          rewriter, loc, operands, op->getName().getStringRef());
      if (failed(broadcastOrFailure))
        return reportUnsupported(rewriter, op,
                                 "operand shapes do not broadcast together");
      broadcast = std::move(*broadcastOrFailure);
    } else {
      broadcast.dims = getDims(rewriter, loc, operands.front());
      broadcast.operands.assign(operands.begin(), operands.end());
    }
    Type elementType = resultTypes[0].getElementType();
    Value lowered = buildElementwise(
        rewriter, loc, broadcast.operands, broadcast.dims, elementType,
        [&](OpBuilder &b, Location nestedLoc, ValueRange scalars) {
          return body->second(b, nestedLoc, op, scalars, elementType);
        });
    replaceWithConvertedTypes(rewriter, op, lowered, resultTypes);
    return success();
  }

private:
  llvm::DenseMap<TypeID, ScalarBody> bodies;
};

/// onnx.Constant -> arith.constant with a signless element type. Large
/// weights stay `dense_resource` blobs (same handle, no copy).
struct ConstantLowering : LinalgLoweringPattern<onnx::ConstantOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues>
  lower(onnx::ConstantOp op, OpAdaptor adaptor,
        ArrayRef<RankedTensorType> resultTypes,
        ConversionPatternRewriter &rewriter) const override {
    ElementsAttr value = getSignlessElementsAttr(op.getValue());
    if (!value)
      return reportUnsupported(rewriter, op,
                               "cannot retype this kind of elements attribute "
                               "to a signless element type");
    auto typed = dyn_cast<TypedAttr>(value);
    if (!typed)
      return reportUnsupported(rewriter, op, "constant value is not typed");
    Value constant = arith::ConstantOp::create(rewriter, op.getLoc(), typed);
    return LoweredValues{constant};
  }
};

/// Identity is its input.
struct IdentityLowering
    : LinalgLoweringPattern<onnx::IdentityOp, ResultRank::Any> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues>
  lower(onnx::IdentityOp op, OpAdaptor adaptor,
        ArrayRef<TensorType> resultTypes,
        ConversionPatternRewriter &rewriter) const override {
    return LoweredValues{adaptor.getInput()};
  }
};

/// float8 and float4 conversions need saturation and rounding rules that
/// arith's truncf does not give (and CPUs have no such types); rejected
/// with a clear message instead of being lowered wrongly.
bool isSupportedCastType(Type type) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return floatType.getWidth() >= 16;
  return isa<IntegerType, IndexType>(type);
}

/// A float as ONNX casts it to a 2- or 4-bit integer (onnx
/// docs/technical/int4.md, int2.md): rounded to the nearest integer, ties to
/// even, then reduced modulo 2^bits (the low bits kept). Returns the float
/// in [0, 2^bits) whose conversion and truncation give those bits. The
/// remainder is taken in floating point, exact for every finite value, so
/// that no intermediate integer saturates; half-precision inputs are widened
/// to f32 first (exactly).
Value roundAndWrapToSubByte(OpBuilder &b, Location loc, Value value,
                            unsigned bits) {
  if (cast<FloatType>(value.getType()).getWidth() < 32)
    value = arith::ExtFOp::create(b, loc, b.getF32Type(), value);
  Type type = value.getType();
  Value rounded = math::RoundEvenOp::create(b, loc, value);
  Value modulus = arith::ConstantOp::create(
      b, loc, b.getFloatAttr(type, static_cast<double>(1u << bits)));
  Value wraps = math::FloorOp::create(
      b, loc, arith::DivFOp::create(b, loc, rounded, modulus));
  return arith::SubFOp::create(b, loc, rounded,
                               arith::MulFOp::create(b, loc, wraps, modulus));
}

/// Cast and CastLike: convertScalar on every element, with the signedness
/// of the original input and result types; floats cast to 2- and 4-bit
/// integers are rounded and wrapped first, as ONNX defines them.
template <typename OpTy>
struct CastLowering : LinalgLoweringPattern<OpTy, ResultRank::Any> {
  using LinalgLoweringPattern<OpTy, ResultRank::Any>::LinalgLoweringPattern;
  FailureOr<LoweredValues>
  lower(OpTy op, typename OpTy::Adaptor adaptor,
        ArrayRef<TensorType> resultTypes,
        ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TensorType resultTensor = resultTypes[0];
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    Type from = inputType.getElementType();
    Type to = resultTensor.getElementType();
    if (!isSupportedCastType(from) || !isSupportedCastType(to)) {
      std::string message;
      llvm::raw_string_ostream os(message);
      os << "casts from " << getElementTypeOrSelf(op.getInput().getType())
         << " to " << getElementTypeOrSelf(op.getType())
         << " are not supported (float8/float4 element types have no "
            "lowering)";
      return reportUnsupported(rewriter, op, message);
    }
    bool fromUnsigned = isUnsignedElementType(op.getInput().getType());
    bool toUnsigned = isUnsignedElementType(op.getType());
    Value lowered = buildElementwise(
        rewriter, loc, input, getDims(rewriter, loc, input), to,
        [&](OpBuilder &b, Location nestedLoc, ValueRange scalars) {
          Value scalar = scalars[0];
          if (isa<FloatType>(from) && to.isSignlessInteger() &&
              to.getIntOrFloatBitWidth() > 1 && to.getIntOrFloatBitWidth() < 8)
            scalar = roundAndWrapToSubByte(b, nestedLoc, scalar,
                                           to.getIntOrFloatBitWidth());
          return convertScalar(b, nestedLoc, scalar, to, fromUnsigned,
                               toUnsigned);
        });
    return LoweredValues{lowered};
  }
};

/// Clip: min/max are optional scalars (0-d or one-element tensors), read
/// once outside the loop. Applying max then min makes min > max give max,
/// as the spec says.
struct ClipLowering : LinalgLoweringPattern<onnx::ClipOp, ResultRank::Any> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues>
  lower(onnx::ClipOp op, OpAdaptor adaptor, ArrayRef<TensorType> resultTypes,
        ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TensorType resultTensor = resultTypes[0];
    Value input = adaptor.getInput();
    auto readBound = [&](Value original, Value converted) -> Value {
      if (isNoValue(original))
        return {};
      return extractScalar(rewriter, loc, converted);
    };
    Value lower = readBound(op.getMin(), adaptor.getMin());
    Value upper = readBound(op.getMax(), adaptor.getMax());
    Type elementType = resultTensor.getElementType();
    bool isUnsigned = isUnsignedElementType(op.getType());
    Value lowered = buildElementwise(
        rewriter, loc, input, getDims(rewriter, loc, input), elementType,
        [&](OpBuilder &b, Location nl, ValueRange scalars) -> Value {
          Value x = scalars[0];
          if (isFloat(elementType)) {
            if (lower)
              x = arith::MaximumFOp::create(b, nl, x, lower);
            if (upper)
              x = arith::MinimumFOp::create(b, nl, x, upper);
            return x;
          }
          if (lower)
            x = isUnsigned
                    ? arith::MaxUIOp::create(b, nl, x, lower).getResult()
                    : arith::MaxSIOp::create(b, nl, x, lower).getResult();
          if (upper)
            x = isUnsigned
                    ? arith::MinUIOp::create(b, nl, x, upper).getResult()
                    : arith::MinSIOp::create(b, nl, x, upper).getResult();
          return x;
        });
    return LoweredValues{lowered};
  }
};

} // namespace

void populateElementwisePatterns(const TypeConverter &converter,
                                 RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  // The per-op part of the element-wise lowering: each op's scalar body.
  llvm::DenseMap<TypeID, ScalarBody> bodies;
  auto add = [&](auto buildScalar) {
    using Fn = decltype(buildScalar);
    using OpTy = std::remove_reference_t<
        typename llvm::function_traits<Fn>::template arg_t<2>>;
    static_assert(OpTy::template hasTrait<onnx::OpTrait::Elementwise>(),
                  "a scalar body is for an ONNX_Elementwise op");
    bodies[TypeID::get<OpTy>()] = [buildScalar](OpBuilder &b, Location loc,
                                                Operation *op, ValueRange args,
                                                Type resultType) {
      return buildScalar(b, loc, cast<OpTy>(op), args, resultType);
    };
  };
  add(buildAdd);
  add(buildSub);
  add(buildMul);
  add(buildDiv);
  add(buildPow);
  add(buildEqual);
  add(buildLess);
  add(buildLessOrEqual);
  add(buildGreater);
  add(buildGreaterOrEqual);
  add(buildAnd);
  add(buildOr);
  add(buildNot);
  add(buildIsNaN);
  add(buildUnaryMath<math::SqrtOp, onnx::SqrtOp>);
  add(buildUnaryMath<math::ExpOp, onnx::ExpOp>);
  add(buildUnaryMath<math::LogOp, onnx::LogOp>);
  add(buildUnaryMath<math::TanhOp, onnx::TanhOp>);
  add(buildUnaryMath<math::ErfOp, onnx::ErfOp>);
  add(buildUnaryMath<math::CosOp, onnx::CosOp>);
  add(buildUnaryMath<math::SinOp, onnx::SinOp>);
  add(buildReciprocal);
  add(buildNeg);
  add(buildAbs);
  add(buildSigmoid);
  add(buildRelu);
  add(buildGelu);
  add(buildWhere);
  add(buildMaxMin<true, onnx::MaxOp>);
  add(buildMaxMin<false, onnx::MinOp>);
  patterns.add<ElementwiseLowering>(converter, context, std::move(bodies));
  patterns.add<ConstantLowering, IdentityLowering, ClipLowering,
               CastLowering<onnx::CastOp>, CastLowering<onnx::CastLikeOp>>(
      converter, context);
}

} // namespace qaf

//===- RecognizeMatmuls.cpp - contractions as matmuls the kernels take ----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every target's kernels take linalg.matmul and linalg.batch_matmul, with
// either operand transposed (their indexing maps say how each is read); any
// other contraction runs as generic loops, an order of magnitude slower. Two
// shapes of the same product reach this phase in other forms:
//
// - a linalg.generic whose body is a multiply-add (the adapters' x·Aᵀ and
//   their gradients, built with the dequantizing contraction helpers), which
//   becomes the named op with the generic's maps;
// - a linalg.transpose feeding a matmul operand: a backward pass multiplies
//   by transposes (dY·Wᵀ, Xᵀ·dY), and onnx lowers a Transpose feeding a
//   MatMul to a copy of the whole operand (for a tied LM head, the
//   49152 x 576 embedding, every step); it folds into the operand's map.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/MatmulForms.h"
#include "qaf/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SetVector.h"

namespace qaf {
#define GEN_PASS_DEF_RECOGNIZEMATMULSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

/// Whether `body` computes out + a·b (either order of each operation) from
/// its block arguments (a, b, out), all of one float type: the scalar body of
/// a matmul.
bool isMultiplyAdd(Block &body) {
  // Two operations and the yield.
  if (body.getNumArguments() != 3 ||
      std::distance(body.begin(), body.end()) != 3)
    return false;
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  if (!yield || yield.getNumOperands() != 1)
    return false;
  Type type = body.getArgument(2).getType();
  if (!isa<FloatType>(type) || body.getArgument(0).getType() != type ||
      body.getArgument(1).getType() != type)
    return false;
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || add->getBlock() != &body)
    return false;
  Value out = body.getArgument(2), product;
  if (add.getLhs() == out)
    product = add.getRhs();
  else if (add.getRhs() == out)
    product = add.getLhs();
  else
    return false;
  auto multiply = product.getDefiningOp<arith::MulFOp>();
  if (!multiply || multiply->getBlock() != &body)
    return false;
  Value a = body.getArgument(0), b = body.getArgument(1);
  return (multiply.getLhs() == a && multiply.getRhs() == b) ||
         (multiply.getLhs() == b && multiply.getRhs() == a);
}

/// The dims of a (batch) matmul in a generic's loops: the reduction `k`,
/// the output's `m` and `n`, and its leading `batch` dims if any.
struct MatmulDims {
  SmallVector<unsigned> batch;
  unsigned m, n, k;
};

/// The positions of a map's results when each is a plain loop dim.
std::optional<SmallVector<unsigned>> getDimPositions(AffineMap map) {
  SmallVector<unsigned> positions;
  for (AffineExpr result : map.getResults()) {
    auto dim = dyn_cast<AffineDimExpr>(result);
    if (!dim)
      return std::nullopt;
    positions.push_back(dim.getPosition());
  }
  return positions;
}

/// linalg.generic computing C (+)= A·B (or Aᵀ, Bᵀ, batched with at most one
/// batch dim, which both operands carry) with a multiply-add body becomes
/// linalg.matmul or linalg.batch_matmul with the same operands, each read
/// through its map in the named op's dims. Inputs in the other order (B·A)
/// swap, the product being commutative per element.
struct GenericContractionToMatmul : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
        op.getNumDpsInits() != 1 || op.getNumReductionLoops() != 1 ||
        !isMultiplyAdd(*op.getBlock()))
      return failure();
    unsigned loops = op.getNumLoops();
    if (loops != 3 && loops != 4)
      return failure();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    std::optional<SmallVector<unsigned>> out = getDimPositions(maps[2]);
    std::optional<SmallVector<unsigned>> lhs = getDimPositions(maps[0]);
    std::optional<SmallVector<unsigned>> rhs = getDimPositions(maps[1]);
    if (!out || !lhs || !rhs || out->size() != loops - 1 ||
        lhs->size() != loops - 1 || rhs->size() != loops - 1)
      return failure();
    unsigned k = 0;
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    while (iterators[k] != utils::IteratorType::reduction)
      ++k;
    // The output reads every parallel loop once.
    if (llvm::is_contained(*out, k) ||
        llvm::SmallSetVector<unsigned, 4>(out->begin(), out->end()).size() !=
            out->size())
      return failure();
    MatmulDims dims;
    dims.batch.assign(out->begin(), out->end() - 2);
    dims.m = (*out)[out->size() - 2];
    dims.n = out->back();
    dims.k = k;
    // An input reads the batch dims, then `other` (m or n) and k: `kFirst`
    // when k comes first.
    auto matrixDims = [&](ArrayRef<unsigned> operand, unsigned other,
                          bool &kFirst) -> bool {
      if (!llvm::equal(operand.drop_back(2), dims.batch))
        return false;
      unsigned first = operand[operand.size() - 2], second = operand.back();
      if (first == other && second == dims.k)
        kFirst = false;
      else if (first == dims.k && second == other)
        kFirst = true;
      else
        return false;
      return true;
    };
    // A is read at (m, k) or, transposed, (k, m); B at (k, n) or (n, k). The
    // generic may list them the other way round.
    Value a = op.getDpsInputs()[0], b = op.getDpsInputs()[1];
    bool transposeA = false, transposeB = false;
    if (matrixDims(*lhs, dims.m, transposeA) &&
        matrixDims(*rhs, dims.n, transposeB)) {
      transposeB = !transposeB;
    } else if (matrixDims(*rhs, dims.m, transposeA) &&
               matrixDims(*lhs, dims.n, transposeB)) {
      std::swap(a, b);
      transposeB = !transposeB;
    } else {
      return failure();
    }
    SmallVector<AffineMap, 3> namedMaps =
        qaf::getMatmulMaps(op.getContext(), dims.batch.size(),
                           qaf::MatmulForm{transposeA, transposeB});
    Value init = op.getDpsInits()[0];
    NamedAttribute mapsAttr = rewriter.getNamedAttr(
        "indexing_maps", rewriter.getAffineMapArrayAttr(namedMaps));
    if (dims.batch.empty())
      rewriter.replaceOpWithNewOp<linalg::MatmulOp>(
          op, op->getResultTypes(), ValueRange{a, b}, ValueRange{init},
          ArrayRef<NamedAttribute>{mapsAttr});
    else
      rewriter.replaceOpWithNewOp<linalg::BatchMatmulOp>(
          op, op->getResultTypes(), ValueRange{a, b}, ValueRange{init},
          ArrayRef<NamedAttribute>{mapsAttr});
    return success();
  }
};

/// A transpose that swaps the last two dims and keeps any leading (batch)
/// dims in place: what a matmul map can absorb.
bool swapsLastTwoDims(linalg::TransposeOp transpose) {
  ArrayRef<int64_t> permutation = transpose.getPermutation();
  int64_t rank = permutation.size();
  if (rank < 2)
    return false;
  for (int64_t d = 0; d < rank - 2; ++d)
    if (permutation[d] != d)
      return false;
  return permutation[rank - 2] == rank - 1 && permutation[rank - 1] == rank - 2;
}

/// The map with its last two results exchanged.
AffineMap swapLastTwoResults(AffineMap map) {
  SmallVector<AffineExpr> results(map.getResults());
  std::swap(results[results.size() - 2], results.back());
  return AffineMap::get(map.getNumDims(), map.getNumSymbols(), results,
                        map.getContext());
}

/// matmul(transpose(x), b) -> matmul(x, b) with A's map transposed, and the
/// same for B. Both operands fold in one rewrite.
template <typename MatmulOp>
struct FoldTransposedOperands : OpRewritePattern<MatmulOp> {
  using OpRewritePattern<MatmulOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    SmallVector<Value> inputs(op.getDpsInputs());
    bool changed = false;
    for (unsigned i = 0; i < 2; ++i) {
      auto transpose = inputs[i].template getDefiningOp<linalg::TransposeOp>();
      // The map must reach the swapped dims: a broadcast operand of lower
      // rank than the transpose's is left alone.
      if (!transpose || !swapsLastTwoDims(transpose) ||
          maps[i].getNumResults() != transpose.getPermutation().size())
        continue;
      inputs[i] = transpose.getInput();
      maps[i] = swapLastTwoResults(maps[i]);
      changed = true;
    }
    if (!changed)
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      op->setOperands(0, 2, inputs);
      op->setAttr("indexing_maps", rewriter.getAffineMapArrayAttr(maps));
    });
    return success();
  }
};

struct RecognizeMatmulsPass
    : qaf::impl::RecognizeMatmulsPassBase<RecognizeMatmulsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<GenericContractionToMatmul,
                 FoldTransposedOperands<linalg::MatmulOp>,
                 FoldTransposedOperands<linalg::BatchMatmulOp>>(&getContext());
    // Transposes left without users go; nothing else is simplified.
    GreedyRewriteConfig config;
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
  }
};

} // namespace

//===- QAFTrainingOps.td - optimizer updates of a training step --*- tablegen -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The optimizers of ../shared/METHODS.md as ops, so that a training step
// (qaf-build-training) is one graph the lowering compiles like any other.
// Each op maps a parameter, its gradient and its optimizer state to their
// new values; where the new values are stored is the training step's
// business (they are tied to the entry point's arguments, see
// passes/BuildTraining.cpp). Included by QAFOps.td, after the dialect.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_DIALECTS_QAF_QAFTRAININGOPS_TD
#define QAF_DIALECTS_QAF_QAFTRAININGOPS_TD

// The 1-based number of the optimizer step being taken (a 0-d i64 tensor).
def QAF_StepTensor : TensorRankOf<[I64], [0]>;
def QAF_NonNegativeI64Attr : ConfinedAttr<I64Attr, [IntNonNegative]>;

def QAF_AdamWUpdateOp : QAF_Op<"adamw_update", [
    AllTypesMatch<["param", "grad", "exp_avg", "exp_avg_sq", "new_param",
                   "new_exp_avg", "new_exp_avg_sq"]>]> {
  let summary = "one AdamW step (decoupled weight decay, bias correction)";
  let description = [{
    PyTorch's `torch.optim.AdamW` step number `step` (t, 1-based), with the
    learning rate of Hugging Face's schedules for t − 1 completed steps:

        η = lr · f(t − 1)
        p ← p − η·λ·p                          (decoupled weight decay λ)
        m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
        p ← p − η · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + ε)

    `schedule` is `constant` (f(s) = min(1, s / warmup_steps)) or `cosine`
    (the same warm-up, then 0.5·(1 + cos(π·(s − warmup) / (total − warmup))),
    0 after `total_steps`), as `get_constant_schedule_with_warmup` and
    `get_cosine_schedule_with_warmup`: with a warm-up, the first step only
    moves the moments. Every operand and result has the parameter's type.

    ```mlir
    %p2, %m2, %v2 = qaf.adamw_update %p, %g, %m, %v, %t
        {lr = 1.0e-3 : f64, schedule = "cosine", warmup_steps = 10 : i64,
         total_steps = 100 : i64, beta1 = 0.9 : f64, beta2 = 0.999 : f64,
         eps = 1.0e-8 : f64, weight_decay = 0.01 : f64}
        : (tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>,
           tensor<8x64xf32>, tensor<i64>)
        -> (tensor<8x64xf32>, tensor<8x64xf32>, tensor<8x64xf32>)
    ```
  }];
  let arguments = (ins QAF_FloatTensor:$param, QAF_FloatTensor:$grad,
                   QAF_FloatTensor:$exp_avg, QAF_FloatTensor:$exp_avg_sq,
                   QAF_StepTensor:$step,
                   QAF_FiniteF64Attr:$lr, StrAttr:$schedule,
                   QAF_NonNegativeI64Attr:$warmup_steps,
                   QAF_PositiveI64Attr:$total_steps,
                   QAF_FiniteF64Attr:$beta1, QAF_FiniteF64Attr:$beta2,
                   QAF_PositiveFiniteF64Attr:$eps,
                   QAF_FiniteF64Attr:$weight_decay);
  let results = (outs QAF_FloatTensor:$new_param,
                      QAF_FloatTensor:$new_exp_avg,
                      QAF_FloatTensor:$new_exp_avg_sq);
}

def QAF_TSignSGDUpdateOp : QAF_Op<"tsignsgd_update", [
    AllTypesMatch<["param", "new_param"]>,
    AllShapesMatch<["param", "grad"]>]> {
  let summary = "one t-SignSGD step of a ternary tensor";
  let description = [{
    METHODS.md §1: no learning rate, no momentum, no state. With
    σ = quantile(|g|, q_t), the entries whose gradient is larger than
    max(1e−9, σ) move one level against its sign, clamped to {−1, 0, 1}:

        p ← clamp(p − sign(g)·[|g| > max(1e−9, σ)], −1, 1)

    The quantile is the order statistic |g|_(⌊q_t·(n − 1)⌋) of the tensor's
    n entries (numpy's `quantile(..., method="lower")`), so at most
    ⌈(1 − q_t)·n⌉ entries move. The schedule over T = `total_steps`, with
    f = min(1, (t − 1)/T) for step t (1-based): q_t rises linearly from 0.95
    to 0.999 while f ≤ 0.8, then to 0.9999 at f = 1.

    ```mlir
    %a2 = qaf.tsignsgd_update %a, %g, %t {total_steps = 1000 : i64}
        : (tensor<16x64xi8>, tensor<16x64xf32>, tensor<i64>) -> tensor<16x64xi8>
    ```
  }];
  let arguments = (ins QAF_TernaryTensor:$param, QAF_FloatTensor:$grad,
                   QAF_StepTensor:$step, QAF_PositiveI64Attr:$total_steps);
  let results = (outs QAF_TernaryTensor:$new_param);
  // Types and shapes are all there is to check.
  let hasVerifier = 0;
}

#endif // QAF_DIALECTS_QAF_QAFTRAININGOPS_TD

// RUN: qaf-opt %s -split-input-file -verify-diagnostics

// One case per verifier error of the optimizer ops.

func.func @beta1_one(%p: tensor<4xf32>, %t: tensor<i64>) {
  // expected-error @below {{beta1 must lie in [0, 1), not 1}}
  %0:3 = qaf.adamw_update %p, %p, %p, %p, %t {lr = 1.0e-3 : f64, schedule = "constant", warmup_steps = 0 : i64, total_steps = 10 : i64, beta1 = 1.0 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<i64>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @schedule(%p: tensor<4xf32>, %t: tensor<i64>) {
  // expected-error @below {{schedule must be 'constant' or 'cosine', not 'linear'}}
  %0:3 = qaf.adamw_update %p, %p, %p, %p, %t {lr = 1.0e-3 : f64, schedule = "linear", warmup_steps = 0 : i64, total_steps = 10 : i64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<i64>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @negative_lr(%p: tensor<4xf32>, %t: tensor<i64>) {
  // expected-error @below {{lr must not be negative}}
  %0:3 = qaf.adamw_update %p, %p, %p, %p, %t {lr = -1.0 : f64, schedule = "constant", warmup_steps = 0 : i64, total_steps = 10 : i64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<i64>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @negative_decay(%p: tensor<4xf32>, %t: tensor<i64>) {
  // expected-error @below {{weight_decay must not be negative}}
  %0:3 = qaf.adamw_update %p, %p, %p, %p, %t {lr = 1.0 : f64, schedule = "constant", warmup_steps = 0 : i64, total_steps = 10 : i64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = -0.5 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<i64>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @warmup(%p: tensor<4xf32>, %t: tensor<i64>) {
  // expected-error @below {{warmup_steps (20) exceeds total_steps (10)}}
  %0:3 = qaf.adamw_update %p, %p, %p, %p, %t {lr = 1.0 : f64, schedule = "constant", warmup_steps = 20 : i64, total_steps = 10 : i64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<i64>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @moment_type(%p: tensor<4xf32>, %m: tensor<4xf16>, %t: tensor<i64>) {
  // expected-error @below {{all of {param, grad, exp_avg, exp_avg_sq, new_param, new_exp_avg, new_exp_avg_sq} have same type}}
  %0:3 = qaf.adamw_update %p, %p, %m, %p, %t {lr = 1.0 : f64, schedule = "constant", warmup_steps = 0 : i64, total_steps = 10 : i64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf16>, tensor<4xf32>, tensor<i64>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @step_rank(%p: tensor<4xi8>, %g: tensor<4xf32>, %t: tensor<1xi64>) {
  // expected-error @below {{operand #2 must be 0D tensor of 64-bit signless integer values}}
  %0 = qaf.tsignsgd_update %p, %g, %t {total_steps = 10 : i64} : (tensor<4xi8>, tensor<4xf32>, tensor<1xi64>) -> tensor<4xi8>
  return
}

// -----

func.func @gradient_shape(%p: tensor<4xi8>, %g: tensor<5xf32>, %t: tensor<i64>) {
  // expected-error @below {{all of {param, grad} have same shape}}
  %0 = qaf.tsignsgd_update %p, %g, %t {total_steps = 10 : i64} : (tensor<4xi8>, tensor<5xf32>, tensor<i64>) -> tensor<4xi8>
  return
}

// -----

func.func @total_steps(%p: tensor<4xi8>, %g: tensor<4xf32>, %t: tensor<i64>) {
  // expected-error @below {{attribute 'total_steps' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = qaf.tsignsgd_update %p, %g, %t {total_steps = 0 : i64} : (tensor<4xi8>, tensor<4xf32>, tensor<i64>) -> tensor<4xi8>
  return
}

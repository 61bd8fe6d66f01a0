// RUN: qaf-opt %s -split-input-file -verify-diagnostics

// One case per verifier error of qaf.kernel.attention.

func.func @inputs(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x5x8xf32>, %o: tensor<1x2x3x8xf32>) {
  // expected-error @+1 {{takes query, key, value and an optional bias, not 2 inputs}}
  %r = qaf.kernel.attention scale(1.0) ins(%q, %k : tensor<1x2x3x8xf32>, tensor<1x2x5x8xf32>) outs(%o : tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32>
  return
}

// -----

func.func @rank(%q: tensor<2x3x8xf32>, %k: tensor<1x2x5x8xf32>, %o: tensor<1x2x3x8xf32>) {
  // expected-error @+1 {{operand #0 must be variadic of 4D tensor of 32-bit float values or 4D memref of 32-bit float values}}
  %r = qaf.kernel.attention scale(1.0) ins(%q, %k, %k : tensor<2x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) outs(%o : tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32>
  return
}

// -----

func.func @mixed(%q: tensor<1x2x3x8xf32>, %k: memref<1x2x5x8xf32>, %o: tensor<1x2x3x8xf32>) {
  // expected-error @+1 {{operands must be all tensors or all buffers, not 'memref<1x2x5x8xf32>' with 'tensor<1x2x3x8xf32>'}}
  %r = qaf.kernel.attention scale(1.0) ins(%q, %k, %k : tensor<1x2x3x8xf32>, memref<1x2x5x8xf32>, memref<1x2x5x8xf32>) outs(%o : tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32>
  return
}

// -----

func.func @head_size(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x5x16xf32>, %o: tensor<1x2x3x16xf32>) {
  // expected-error @+1 {{the key's head size and the query's differ (16 and 8)}}
  %r = qaf.kernel.attention scale(1.0) ins(%q, %k, %k : tensor<1x2x3x8xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>) outs(%o : tensor<1x2x3x16xf32>) -> tensor<1x2x3x16xf32>
  return
}

// -----

func.func @value_length(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x6x8xf32>, %o: tensor<1x2x3x8xf32>) {
  // expected-error @+1 {{the value's length and the key's differ (6 and 5)}}
  %r = qaf.kernel.attention scale(1.0) ins(%q, %k, %v : tensor<1x2x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x6x8xf32>) outs(%o : tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32>
  return
}

// -----

func.func @init(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x5x8xf32>, %o: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{the init's length and the query's differ (4 and 3)}}
  %r = qaf.kernel.attention scale(1.0) ins(%q, %k, %k : tensor<1x2x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) outs(%o : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @batch(%q: tensor<3x2x3x8xf32>, %k: tensor<2x2x5x8xf32>, %o: tensor<3x2x3x8xf32>) {
  // expected-error @+1 {{the key's batch 2 neither equals the query's 3 nor broadcasts (1)}}
  %r = qaf.kernel.attention scale(1.0) ins(%q, %k, %k : tensor<3x2x3x8xf32>, tensor<2x2x5x8xf32>, tensor<2x2x5x8xf32>) outs(%o : tensor<3x2x3x8xf32>) -> tensor<3x2x3x8xf32>
  return
}

// -----

func.func @groups(%q: tensor<1x6x3x8xf32>, %k: tensor<1x4x5x8xf32>, %o: tensor<1x6x3x8xf32>) {
  // expected-error @+1 {{the key's 4 heads do not divide the query's 6}}
  %r = qaf.kernel.attention scale(1.0) ins(%q, %k, %k : tensor<1x6x3x8xf32>, tensor<1x4x5x8xf32>, tensor<1x4x5x8xf32>) outs(%o : tensor<1x6x3x8xf32>) -> tensor<1x6x3x8xf32>
  return
}

// -----

func.func @bias(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x5x8xf32>, %mask: tensor<1x2x3x4xf32>, %o: tensor<1x2x3x8xf32>) {
  // expected-error @+1 {{the bias 'tensor<1x2x3x4xf32>' does not broadcast to [batch, heads, query length, key length]}}
  %r = qaf.kernel.attention scale(1.0) ins(%q, %k, %k, %mask : tensor<1x2x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x3x4xf32>) outs(%o : tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32>
  return
}

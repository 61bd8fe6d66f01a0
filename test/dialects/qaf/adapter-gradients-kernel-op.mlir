// RUN: qaf-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// qaf.kernel.adapter_gradients round-trips for both methods, on tensors and
// on buffers; the verifier admits only what the kernels compute.

// CHECK-LABEL: func.func @lota
// CHECK: qaf.kernel.adapter_gradients "lota" group_size(32) coefficient(3.000000e+00) ins({{.*}} : tensor<?x8xf32>, tensor<?x64xf32>, tensor<8x2xf32>, tensor<4x64xi8>, tensor<8x4xi8>) outs({{.*}} : tensor<4x64xf32>, tensor<8x4xf32>) -> tensor<4x64xf32>, tensor<8x4xf32>
func.func @lota(%g: tensor<?x8xf32>, %x: tensor<?x64xf32>, %s: tensor<8x2xf32>, %a: tensor<4x64xi8>, %b: tensor<8x4xi8>, %da0: tensor<4x64xf32>, %db0: tensor<8x4xf32>) -> (tensor<4x64xf32>, tensor<8x4xf32>) {
  %da, %db = qaf.kernel.adapter_gradients "lota" group_size(32) coefficient(3.0) ins(%g, %x, %s, %a, %b : tensor<?x8xf32>, tensor<?x64xf32>, tensor<8x2xf32>, tensor<4x64xi8>, tensor<8x4xi8>) outs(%da0, %db0 : tensor<4x64xf32>, tensor<8x4xf32>) -> tensor<4x64xf32>, tensor<8x4xf32>
  return %da, %db : tensor<4x64xf32>, tensor<8x4xf32>
}

// CHECK-LABEL: func.func @l4q_on_buffers
// CHECK: qaf.kernel.adapter_gradients "l4q" group_size(16) coefficient(1.500000e+00) bits(3) ins({{.*}}) outs({{.*}} : memref<2x32xf32>, memref<8x2xf32>, memref<8x2xf32>, memref<8x2xf32>)
// CHECK-NOT: ->
func.func @l4q_on_buffers(%g: memref<?x8xf32>, %x: memref<?x32xf32>, %u: memref<8x32xf32>, %w: memref<8x32xf32>, %a: memref<2x32xf32>, %b: memref<8x2xf32>, %da: memref<2x32xf32>, %db: memref<8x2xf32>, %ds: memref<8x2xf32>, %dz: memref<8x2xf32>) {
  qaf.kernel.adapter_gradients "l4q" group_size(16) coefficient(1.5) bits(3) ins(%g, %x, %u, %w, %a, %b : memref<?x8xf32>, memref<?x32xf32>, memref<8x32xf32>, memref<8x32xf32>, memref<2x32xf32>, memref<8x2xf32>) outs(%da, %db, %ds, %dz : memref<2x32xf32>, memref<8x2xf32>, memref<8x2xf32>, memref<8x2xf32>)
  return
}

// -----

func.func @unknown_method(%g: tensor<?x8xf32>, %x: tensor<?x64xf32>, %s: tensor<8x2xf32>, %a: tensor<4x64xi8>, %b: tensor<8x4xi8>, %da0: tensor<4x64xf32>, %db0: tensor<8x4xf32>) {
  // expected-error @+1 {{method must be "lota" or "l4q", not "lora"}}
  %da, %db = qaf.kernel.adapter_gradients "lora" group_size(32) coefficient(3.0) ins(%g, %x, %s, %a, %b : tensor<?x8xf32>, tensor<?x64xf32>, tensor<8x2xf32>, tensor<4x64xi8>, tensor<8x4xi8>) outs(%da0, %db0 : tensor<4x64xf32>, tensor<8x4xf32>) -> tensor<4x64xf32>, tensor<8x4xf32>
  return
}

// -----

func.func @ragged_group(%g: tensor<?x8xf32>, %x: tensor<?x64xf32>, %s: tensor<8x2xf32>, %a: tensor<4x64xi8>, %b: tensor<8x4xi8>, %da0: tensor<4x64xf32>, %db0: tensor<8x4xf32>) {
  // expected-error @+1 {{group size 24 does not divide the 64 input features}}
  %da, %db = qaf.kernel.adapter_gradients "lota" group_size(24) coefficient(3.0) ins(%g, %x, %s, %a, %b : tensor<?x8xf32>, tensor<?x64xf32>, tensor<8x2xf32>, tensor<4x64xi8>, tensor<8x4xi8>) outs(%da0, %db0 : tensor<4x64xf32>, tensor<8x4xf32>) -> tensor<4x64xf32>, tensor<8x4xf32>
  return
}

// -----

func.func @lota_without_omega(%g: tensor<?x8xf32>, %x: tensor<?x64xf32>, %s: tensor<8x2xf32>, %a: tensor<4x64xi8>, %b: tensor<8x4xi8>, %da0: tensor<4x64xf32>, %db0: tensor<8x4xf32>) {
  // expected-error @+1 {{coefficient must be finite and positive (ω), not 0}}
  %da, %db = qaf.kernel.adapter_gradients "lota" group_size(32) coefficient(0.0) ins(%g, %x, %s, %a, %b : tensor<?x8xf32>, tensor<?x64xf32>, tensor<8x2xf32>, tensor<4x64xi8>, tensor<8x4xi8>) outs(%da0, %db0 : tensor<4x64xf32>, tensor<8x4xf32>) -> tensor<4x64xf32>, tensor<8x4xf32>
  return
}

// -----

func.func @wrong_scales(%g: tensor<?x8xf32>, %x: tensor<?x64xf32>, %s: tensor<8x4xf32>, %a: tensor<4x64xi8>, %b: tensor<8x4xi8>, %da0: tensor<4x64xf32>, %db0: tensor<8x4xf32>) {
  // expected-error @+1 {{scales must be f32 [8, 2], not 'tensor<8x4xf32>'}}
  %da, %db = qaf.kernel.adapter_gradients "lota" group_size(32) coefficient(3.0) ins(%g, %x, %s, %a, %b : tensor<?x8xf32>, tensor<?x64xf32>, tensor<8x4xf32>, tensor<4x64xi8>, tensor<8x4xi8>) outs(%da0, %db0 : tensor<4x64xf32>, tensor<8x4xf32>) -> tensor<4x64xf32>, tensor<8x4xf32>
  return
}

// -----

func.func @l4q_without_bits(%g: tensor<?x8xf32>, %x: tensor<?x32xf32>, %u: tensor<8x32xf32>, %w: tensor<8x32xf32>, %a: tensor<2x32xf32>, %b: tensor<8x2xf32>, %da: tensor<2x32xf32>, %db: tensor<8x2xf32>, %ds: tensor<8x2xf32>) {
  // expected-error @+1 {{L4Q needs bits}}
  %0:4 = qaf.kernel.adapter_gradients "l4q" group_size(16) coefficient(1.5) ins(%g, %x, %u, %w, %a, %b : tensor<?x8xf32>, tensor<?x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>, tensor<2x32xf32>, tensor<8x2xf32>) outs(%da, %db, %ds, %ds : tensor<2x32xf32>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x32xf32>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<8x2xf32>
  return
}

// -----

func.func @l4q_ternary_factors(%g: tensor<?x8xf32>, %x: tensor<?x32xf32>, %u: tensor<8x32xf32>, %w: tensor<8x32xf32>, %a: tensor<2x32xi8>, %b: tensor<8x2xi8>, %da: tensor<2x32xf32>, %db: tensor<8x2xf32>, %ds: tensor<8x2xf32>) {
  // expected-error @+1 {{the factors must be 'f32', not 'tensor<2x32xi8>'}}
  %0:4 = qaf.kernel.adapter_gradients "l4q" group_size(16) coefficient(1.5) bits(3) ins(%g, %x, %u, %w, %a, %b : tensor<?x8xf32>, tensor<?x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>, tensor<2x32xi8>, tensor<8x2xi8>) outs(%da, %db, %ds, %ds : tensor<2x32xf32>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x32xf32>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<8x2xf32>
  return
}

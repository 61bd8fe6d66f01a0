// RUN: qaf-opt %s --qaf-test-adapter-interface -verify-diagnostics
// RUN: qaf-opt %s --qaf-test-adapter-interface 2>/dev/null | FileCheck %s

// What AdapterOpInterface says about each adapter op (METHODS.md §7):
// operand numbers of x, the frozen base and the trained parameters, and the
// ΔW the method's algebra builds (in its own pooled coordinates). The pass
// leaves the IR as it was.

// CHECK-LABEL: func.func @adapters
// CHECK-NOT: linalg
// CHECK: qaf.lota_linear
// CHECK-NEXT: qaf.l4q_linear
// expected-remark @+1 {{trainable arguments [4, 5, 7, 8, 9, 10, 11, 12, 13, 14]}}
func.func @adapters(%x: tensor<?x128xf32>, %codes: tensor<96x64xui8>, %s: tensor<96x2xf32>, %z: tensor<96x2xf32>,
                    %at: tensor<16x128xi8>, %bt: tensor<96x16xi8>, %w0: tensor<128x96xf32>,
                    %a: tensor<8x128xf32>, %b: tensor<96x8xf32>, %qa: tensor<8x2xf32>, %m: tensor<48x2xf32>,
                    %ba: tensor<16x64xf32>, %bb: tensor<48x16xf32>, %ls: tensor<96x2xf32>, %lo: tensor<96x2xf32>) {
  // expected-remark @+1 {{input 0, base [1, 2, 3], trainable [4, 5], whole layer, merge codes-and-zero-points, delta W 'tensor<96x128xi32>'}}
  %0 = qaf.lota_linear %x, %codes, %s, %z, %at, %bt {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>, omega = 12.0 : f64} : (tensor<?x128xf32>, tensor<96x64xui8>, tensor<96x2xf32>, tensor<96x2xf32>, tensor<16x128xi8>, tensor<96x16xi8>) -> tensor<?x96xf32>
  // expected-remark @+1 {{input 0, base [1], trainable [2, 3, 4, 5], whole layer, merge trained-quantizer, delta W 'tensor<96x128xf32>'}}
  %1 = qaf.l4q_linear %x, %w0, %a, %b, %ls, %lo {bits = 4 : i64, group_size = 64 : i64, alpha = 1.0 : f64} : (tensor<?x128xf32>, tensor<128x96xf32>, tensor<8x128xf32>, tensor<96x8xf32>, tensor<96x2xf32>, tensor<96x2xf32>) -> tensor<?x96xf32>
  // expected-remark @+1 {{input 0, base [], trainable [1, 2], additive, merge lossy-requantize, delta W 'tensor<96x128xf32>'}}
  %2 = qaf.lora %x, %a, %b {scale = 2.0 : f64} : (tensor<?x128xf32>, tensor<8x128xf32>, tensor<96x8xf32>) -> tensor<?x96xf32>
  // expected-remark @+1 {{input 0, base [], trainable [1, 2], additive, merge zero-points, delta W 'tensor<96x2xf32>'}}
  %3 = qaf.qalora %x, %qa, %b {group_size = 64 : i64, scale = 2.0 : f64} : (tensor<?x128xf32>, tensor<8x2xf32>, tensor<96x8xf32>) -> tensor<?x96xf32>
  // expected-remark @+1 {{input 0, base [], trainable [1], additive, merge zero-points, delta W 'tensor<48x2xf32>'}}
  %4 = qaf.qahira %x, %m {group_size = 64 : i64, repeat_out = 2 : i64, alpha = 1.0 : f64} : (tensor<?x128xf32>, tensor<48x2xf32>) -> tensor<?x96xf32>
  // expected-remark @+1 {{input 0, base [], trainable [1, 2], additive, merge lossy-requantize, delta W 'tensor<48x64xf32>'}}
  %5 = qaf.qbara %x, %ba, %bb {pool = 2 : i64, scale = 2.0 : f64} : (tensor<?x128xf32>, tensor<16x64xf32>, tensor<48x16xf32>) -> tensor<?x96xf32>
  return
}

// A quantized layer is no adapter: its codes, scales and zero points are
// frozen, and a graph without adapters trains nothing.
// CHECK-LABEL: func.func @no_adapter
// expected-remark @+1 {{trainable arguments []}}
func.func @no_adapter(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) -> tensor<2x8xf32> {
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

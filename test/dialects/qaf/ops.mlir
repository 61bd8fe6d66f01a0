// RUN: qaf-opt %s | qaf-opt | FileCheck %s

// Every qaf op and the format attribute print and parse back.

// CHECK-LABEL: func.func @qlinear
// CHECK: qaf.qlinear %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<?x?x128xf32>, tensor<96x64xui8>, tensor<96x2xf32>, tensor<96x2xf32>) -> tensor<?x?x96xf32>
func.func @qlinear(%x: tensor<?x?x128xf32>, %codes: tensor<96x64xui8>, %s: tensor<96x2xf32>, %z: tensor<96x2xf32>) -> tensor<?x?x96xf32> {
  %y = qaf.qlinear %x, %codes, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<?x?x128xf32>, tensor<96x64xui8>, tensor<96x2xf32>, tensor<96x2xf32>) -> tensor<?x?x96xf32>
  return %y : tensor<?x?x96xf32>
}

// 3-bit codes pack 128 features into 48 bytes; NF has no zero points.
// CHECK-LABEL: func.func @qlinear_3bit_nf
// CHECK: qaf.qlinear %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {format = #qaf.qformat<bits = 3, group_size = 32, scheme = sym>}
// CHECK: qaf.qlinear %{{.*}}, %{{.*}}, %{{.*}} {format = #qaf.qformat<bits = 4, group_size = 64, scheme = nf>}
func.func @qlinear_3bit_nf(%x: tensor<2x128xf32>, %c3: tensor<8x48xui8>, %s4: tensor<8x4xf32>, %c4: tensor<8x64xui8>, %s2: tensor<8x2xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %a = qaf.qlinear %x, %c3, %s4, %s4 {format = #qaf.qformat<bits = 3, group_size = 32, scheme = sym>} : (tensor<2x128xf32>, tensor<8x48xui8>, tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<2x8xf32>
  %b = qaf.qlinear %x, %c4, %s2 {format = #qaf.qformat<bits = 4, group_size = 64, scheme = nf>} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return %a, %b : tensor<2x8xf32>, tensor<2x8xf32>
}

// CHECK-LABEL: func.func @adapters
// CHECK: qaf.lota_linear {{.*}} {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>, omega = 1.200000e+01 : f64}
// CHECK: qaf.l4q_linear {{.*}} {alpha = 1.000000e+00 : f64, bits = 4 : i64, group_size = 64 : i64}
// CHECK: qaf.lora {{.*}} {scale = 2.000000e+00 : f64}
// CHECK: qaf.qalora {{.*}} {group_size = 64 : i64, scale = 2.000000e+00 : f64}
// CHECK: qaf.qahira {{.*}} {alpha = 1.000000e+00 : f64, group_size = 64 : i64, repeat_out = 2 : i64}
// CHECK: qaf.qbara {{.*}} {pool = 2 : i64, scale = 2.000000e+00 : f64}
func.func @adapters(%x: tensor<?x128xf32>, %codes: tensor<96x64xui8>, %s: tensor<96x2xf32>, %z: tensor<96x2xf32>,
                    %at: tensor<16x128xi8>, %bt: tensor<96x16xi8>, %w0: tensor<128x96xf32>,
                    %a: tensor<8x128xf32>, %b: tensor<96x8xf32>, %qa: tensor<8x2xf32>, %m: tensor<48x2xf32>,
                    %ba: tensor<16x64xf32>, %bb: tensor<48x16xf32>) {
  %0 = qaf.lota_linear %x, %codes, %s, %z, %at, %bt {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>, omega = 12.0 : f64} : (tensor<?x128xf32>, tensor<96x64xui8>, tensor<96x2xf32>, tensor<96x2xf32>, tensor<16x128xi8>, tensor<96x16xi8>) -> tensor<?x96xf32>
  %1 = qaf.l4q_linear %x, %w0, %a, %b, %s, %z {bits = 4 : i64, group_size = 64 : i64, alpha = 1.0 : f64} : (tensor<?x128xf32>, tensor<128x96xf32>, tensor<8x128xf32>, tensor<96x8xf32>, tensor<96x2xf32>, tensor<96x2xf32>) -> tensor<?x96xf32>
  %2 = qaf.lora %x, %a, %b {scale = 2.0 : f64} : (tensor<?x128xf32>, tensor<8x128xf32>, tensor<96x8xf32>) -> tensor<?x96xf32>
  %3 = qaf.qalora %x, %qa, %b {group_size = 64 : i64, scale = 2.0 : f64} : (tensor<?x128xf32>, tensor<8x2xf32>, tensor<96x8xf32>) -> tensor<?x96xf32>
  %4 = qaf.qahira %x, %m {group_size = 64 : i64, repeat_out = 2 : i64, alpha = 1.0 : f64} : (tensor<?x128xf32>, tensor<48x2xf32>) -> tensor<?x96xf32>
  %5 = qaf.qbara %x, %ba, %bb {pool = 2 : i64, scale = 2.0 : f64} : (tensor<?x128xf32>, tensor<16x64xf32>, tensor<48x16xf32>) -> tensor<?x96xf32>
  return
}

// The input's feature dimension may be dynamic (a Reshape's result, as
// attention outputs are); the weights fix it.
// CHECK-LABEL: func.func @dynamic_features
// CHECK: qaf.qlinear {{.*}} : (tensor<?x?xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
func.func @dynamic_features(%x: tensor<?x?xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) -> tensor<?x8xf32> {
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<?x?xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// The ops the gradient rules emit: the transposed product (zero points and
// moves optional), LoTA-QAF's effective weight and L4Q's quantizer.
// CHECK-LABEL: func.func @gradient_ops
// CHECK: qaf.qlinear_transposed %{{.*}}, %{{.*}}, %{{.*}} zero_points(%{{.*}}) moves(%{{.*}}) {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<?x96xf32>, tensor<96x64xui8>, tensor<96x2xf32>, tensor<96x2xf32>, tensor<96x128xi8>) -> tensor<?x128xf32>
// CHECK: qaf.qlinear_transposed %{{.*}}, %{{.*}}, %{{.*}} {format = #qaf.qformat<bits = 4, group_size = 64, scheme = nf>} : (tensor<?x96xf32>, tensor<96x64xui8>, tensor<96x2xf32>) -> tensor<?x128xf32>
// CHECK: %{{.*}}, %{{.*}} = qaf.lota_update {{.*}} {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>, omega = 1.200000e+01 : f64} : (tensor<96x64xui8>, tensor<96x2xf32>, tensor<16x128xi8>, tensor<96x16xi8>) -> (tensor<96x128xi8>, tensor<96x2xf32>)
// CHECK: %{{.*}}, %{{.*}} = qaf.l4q_quantize {{.*}} {alpha = 1.000000e+00 : f64, bits = 4 : i64, group_size = 64 : i64} : (tensor<128x96xf32>, tensor<8x128xf32>, tensor<96x8xf32>, tensor<96x2xf32>, tensor<96x2xf32>) -> (tensor<96x128xf32>, tensor<96x128xf32>)
func.func @gradient_ops(%g: tensor<?x96xf32>, %codes: tensor<96x64xui8>, %s: tensor<96x2xf32>, %z: tensor<96x2xf32>,
                        %moves: tensor<96x128xi8>, %at: tensor<16x128xi8>, %bt: tensor<96x16xi8>,
                        %w0: tensor<128x96xf32>, %a: tensor<8x128xf32>, %b: tensor<96x8xf32>) {
  %0 = qaf.qlinear_transposed %g, %codes, %s zero_points(%z) moves(%moves) {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<?x96xf32>, tensor<96x64xui8>, tensor<96x2xf32>, tensor<96x2xf32>, tensor<96x128xi8>) -> tensor<?x128xf32>
  %1 = qaf.qlinear_transposed %g, %codes, %s {format = #qaf.qformat<bits = 4, group_size = 64, scheme = nf>} : (tensor<?x96xf32>, tensor<96x64xui8>, tensor<96x2xf32>) -> tensor<?x128xf32>
  %2:2 = qaf.lota_update %codes, %z, %at, %bt {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>, omega = 12.0 : f64} : (tensor<96x64xui8>, tensor<96x2xf32>, tensor<16x128xi8>, tensor<96x16xi8>) -> (tensor<96x128xi8>, tensor<96x2xf32>)
  %3:2 = qaf.l4q_quantize %w0, %a, %b, %s, %z {bits = 4 : i64, group_size = 64 : i64, alpha = 1.0 : f64} : (tensor<128x96xf32>, tensor<8x128xf32>, tensor<96x8xf32>, tensor<96x2xf32>, tensor<96x2xf32>) -> (tensor<96x128xf32>, tensor<96x128xf32>)
  return
}

// RUN: qaf-opt --qaf-convert-onnx-to-linalg -split-input-file -verify-diagnostics %s | FileCheck %s

// Per axis: the scale and zero point are read with the axis' loop index;
// round half to even, add the zero point, saturate to [-128, 127].
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$AXIS:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @quantize_per_axis
// CHECK: linalg.generic {indexing_maps = [#[[$ID]], #[[$AXIS]], #[[$AXIS]], #[[$ID]]]
// CHECK: ^bb0(%[[X:.*]]: f32, %[[S:.*]]: f32, %[[Z:.*]]: i8, %{{.*}}: i8):
// CHECK: %[[ZF:.*]] = arith.sitofp %[[Z]] : i8 to f32
// CHECK: %[[Q:.*]] = arith.divf %[[X]], %[[S]] : f32
// CHECK: %[[R:.*]] = math.roundeven %[[Q]] : f32
// CHECK: %[[SHIFTED:.*]] = arith.addf %[[R]], %[[ZF]] : f32
// CHECK: %[[LO:.*]] = arith.constant -1.280000e+02 : f32
// CHECK: %[[A:.*]] = arith.maxnumf %[[SHIFTED]], %[[LO]] : f32
// CHECK: %[[HI:.*]] = arith.constant 1.270000e+02 : f32
// CHECK: %[[B:.*]] = arith.minnumf %[[A]], %[[HI]] : f32
// CHECK: arith.fptosi %[[B]] : f32 to i8
func.func @quantize_per_axis(%x: tensor<?x4xf32>, %s: tensor<4xf32>, %z: tensor<4xi8>) -> tensor<?x4xi8> {
  %y = onnx.QuantizeLinear %x, %s, %z {axis = 1 : i64} : (tensor<?x4xf32>, tensor<4xf32>, tensor<4xi8>) -> tensor<?x4xi8>
  return %y : tensor<?x4xi8>
}

// -----

// Blocked uint4: block = index floordiv block_size, range [0, 15], the
// zero point is unsigned.
// CHECK-DAG: #[[$BLOCK:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 32)>
// CHECK-LABEL: func.func @quantize_blocked_uint4
// CHECK-SAME: -> tensor<4x64xi4>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$BLOCK]], #[[$BLOCK]], #{{.*}}]
// CHECK: arith.uitofp %{{.*}} : i4 to f32
// CHECK: arith.constant 0.000000e+00 : f32
// CHECK: arith.constant 1.500000e+01 : f32
// CHECK: arith.fptoui %{{.*}} : f32 to i4
func.func @quantize_blocked_uint4(%x: tensor<4x64xf32>, %s: tensor<4x2xf32>, %z: tensor<4x2xui4>) -> tensor<4x64xui4> {
  %y = onnx.QuantizeLinear %x, %s, %z {axis = 1 : i64, block_size = 32 : i64} : (tensor<4x64xf32>, tensor<4x2xf32>, tensor<4x2xui4>) -> tensor<4x64xui4>
  return %y : tensor<4x64xui4>
}

// -----

// (x - zero_point) in integers, then the scale in f32 (f16 results round
// once at the end).
// CHECK-LABEL: func.func @dequantize_int4_f16
// CHECK: ^bb0(%[[X:.*]]: i4, %[[S:.*]]: f16, %{{.*}}: f16):
// CHECK: %[[XW:.*]] = arith.extsi %[[X]] : i4 to i32
// CHECK: %[[XF:.*]] = arith.sitofp %[[XW]] : i32 to f32
// CHECK: %[[SF:.*]] = arith.extf %[[S]] : f16 to f32
// CHECK: %[[P:.*]] = arith.mulf %[[XF]], %[[SF]] : f32
// CHECK: arith.truncf %[[P]] : f32 to f16
func.func @dequantize_int4_f16(%x: tensor<4x64xi4>, %s: tensor<4x2xf16>) -> tensor<4x64xf16> {
  %n = onnx.NoValue
  %y = onnx.DequantizeLinear %x, %s, %n {axis = 1 : i64, block_size = 32 : i64} : (tensor<4x64xi4>, tensor<4x2xf16>, none) -> tensor<4x64xf16>
  return %y : tensor<4x64xf16>
}

// -----

// CHECK-DAG: #[[$SCALAR:.*]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func.func @dequantize_uint8
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$SCALAR]], #[[$SCALAR]], #{{.*}}]
// CHECK: ^bb0(%[[X:.*]]: i8, %[[S:.*]]: f32, %[[Z:.*]]: i8, %{{.*}}: f32):
// CHECK: %[[XW:.*]] = arith.extui %[[X]] : i8 to i32
// CHECK: %[[ZW:.*]] = arith.extui %[[Z]] : i8 to i32
// CHECK: %[[D:.*]] = arith.subi %[[XW]], %[[ZW]] : i32
// CHECK: %[[DF:.*]] = arith.sitofp %[[D]] : i32 to f32
// CHECK: arith.mulf %[[DF]], %[[S]] : f32
func.func @dequantize_uint8(%x: tensor<?xui8>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<?xf32> {
  %y = onnx.DequantizeLinear %x, %s, %z : (tensor<?xui8>, tensor<f32>, tensor<ui8>) -> tensor<?xf32>
  return %y : tensor<?xf32>
}

// -----

// The range of x widened to include 0; scale (max - min) / 255 (1 for an
// empty range), zero point round(clamp(-min / scale, 0, 255)).
// CHECK-LABEL: func.func @dynamic_quantize
// CHECK: %[[MINR:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]
// CHECK: arith.minnumf
// CHECK: %[[MIN:.*]] = arith.minnumf %{{.*}}, %cst : f32
// CHECK: %[[MAXR:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]
// CHECK: arith.maxnumf
// CHECK: %[[MAX:.*]] = arith.maxnumf %{{.*}}, %cst : f32
// CHECK: %[[EMPTY:.*]] = arith.cmpf oeq, %[[MAX]], %[[MIN]] : f32
// CHECK: %[[RANGE:.*]] = arith.subf %[[MAX]], %[[MIN]] : f32
// CHECK: %[[RATIO:.*]] = arith.divf %[[RANGE]], %{{.*}} : f32
// CHECK: %[[SCALE:.*]] = arith.select %[[EMPTY]], %{{.*}}, %[[RATIO]] : f32
// CHECK: %[[ZF:.*]] = math.roundeven %{{.*}} : f32
// CHECK: %[[ZP:.*]] = arith.fptoui %[[ZF]] : f32 to i8
// CHECK: %[[Y:.*]] = linalg.generic
// CHECK: arith.divf %{{.*}}, %[[SCALE]] : f32
// CHECK: %[[S:.*]] = tensor.from_elements %[[SCALE]] : tensor<f32>
// CHECK: %[[Z:.*]] = tensor.from_elements %[[ZP]] : tensor<i8>
// CHECK: return %[[Y]], %[[S]], %[[Z]] : tensor<?x8xi8>, tensor<f32>, tensor<i8>
func.func @dynamic_quantize(%x: tensor<?x8xf32>) -> (tensor<?x8xui8>, tensor<f32>, tensor<ui8>) {
  %y:3 = onnx.DynamicQuantizeLinear %x : (tensor<?x8xf32>) -> (tensor<?x8xui8>, tensor<f32>, tensor<ui8>)
  return %y#0, %y#1, %y#2 : tensor<?x8xui8>, tensor<f32>, tensor<ui8>
}

// -----

func.func @quantize_float8(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<f8E4M3FN>) -> tensor<4xf8E4M3FN> {
  // expected-error @+2 {{an output of element type f8E4M3FN is not supported (integer types only: float8 has no CPU lowering yet)}}
  // expected-error @+1 {{failed to legalize operation 'onnx.QuantizeLinear'}}
  %y = onnx.QuantizeLinear %x, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<f8E4M3FN>) -> tensor<4xf8E4M3FN>
  return %y : tensor<4xf8E4M3FN>
}

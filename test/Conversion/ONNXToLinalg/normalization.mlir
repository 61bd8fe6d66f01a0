// RUN: qaf-opt --qaf-convert-onnx-to-linalg %s | FileCheck %s

// CHECK-DAG: #[[$ID3:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$DROP1:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$DROPLAST3:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$LAST3:.+]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[$ID2:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ROW:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$COL:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[$ALL2:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-DAG: #[[$ID1:.+]] = affine_map<(d0) -> (d0)>

// A reduction over a dynamic dim: a filled accumulator, a generic with a
// reduction iterator, then the kept dim comes back as size 1.
// CHECK-LABEL: func.func @reduce_sum_keepdims
// CHECK-SAME:    (%[[X:.+]]: tensor<3x?x5xf32>) -> tensor<3x1x5xf32>
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[EMPTY:.+]] = tensor.empty() : tensor<3x5xf32>
// CHECK:         %[[ACC:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<3x5xf32>)
// CHECK:         %[[SUM:.+]] = linalg.generic
// CHECK-SAME:      indexing_maps = [#[[$ID3]], #[[$DROP1]]]
// CHECK-SAME:      iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-SAME:      ins(%[[X]] : tensor<3x?x5xf32>) outs(%[[ACC]] : tensor<3x5xf32>)
// CHECK:           ^bb0(%[[IN:.+]]: f32, %[[OUT:.+]]: f32):
// CHECK:             arith.addf %[[OUT]], %[[IN]] : f32
// CHECK:         %[[EXP:.+]] = tensor.expand_shape %[[SUM]] {{\[}}[0, 1], [2]] output_shape [3, 1, 5]
// CHECK:         return %[[EXP]]
func.func @reduce_sum_keepdims(%x: tensor<3x?x5xf32>) -> tensor<3x1x5xf32> {
  %axes = onnx.Constant {value = dense<[-2]> : tensor<1xi64>} : tensor<1xi64>
  %0 = onnx.ReduceSum %x, %axes : (tensor<3x?x5xf32>, tensor<1xi64>) -> tensor<3x1x5xf32>
  return %0 : tensor<3x1x5xf32>
}

// f16 accumulates in f32; the mean divides and rounds once.
// CHECK-LABEL: func.func @reduce_mean_f16
// CHECK:         %[[SUM:.+]] = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "reduction"]
// CHECK-SAME:      outs(%{{.+}} : tensor<4xf32>)
// CHECK:           ^bb0(%[[IN:.+]]: f16, %[[OUT:.+]]: f32):
// CHECK:             %[[W:.+]] = arith.extf %[[IN]] : f16 to f32
// CHECK:             arith.addf %[[OUT]], %[[W]] : f32
// CHECK:         %[[N:.+]] = arith.constant 8.000000e+00 : f32
// CHECK:         %[[MEAN:.+]] = linalg.generic
// CHECK-SAME:      ins(%[[SUM]] : tensor<4xf32>) outs(%{{.+}} : tensor<4xf16>)
// CHECK:             %[[D:.+]] = arith.divf %{{.+}}, %[[N]] : f32
// CHECK:             arith.truncf %[[D]] : f32 to f16
// CHECK:         return %[[MEAN]] : tensor<4xf16>
func.func @reduce_mean_f16(%x: tensor<4x8xf16>) -> tensor<4xf16> {
  %axes = onnx.Constant {value = dense<[1]> : tensor<1xi64>} : tensor<1xi64>
  %0 = onnx.ReduceMean %x, %axes {keepdims = 0 : i64} : (tensor<4x8xf16>, tensor<1xi64>) -> tensor<4xf16>
  return %0 : tensor<4xf16>
}

// No axes: everything. ReduceMax starts at -inf (the result of an empty
// reduction).
// CHECK-LABEL: func.func @reduce_max_all
// CHECK:         %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK:         %[[ACC:.+]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.+}} : tensor<f32>)
// CHECK:         %[[MAX:.+]] = linalg.generic
// CHECK-SAME:      indexing_maps = [#[[$ID2]], #[[$ALL2]]]
// CHECK-SAME:      iterator_types = ["reduction", "reduction"]
// CHECK:             arith.maximumf
// CHECK:         tensor.expand_shape %[[MAX]] [] output_shape [1, 1] : tensor<f32> into tensor<1x1xf32>
func.func @reduce_max_all(%x: tensor<4x8xf32>) -> tensor<1x1xf32> {
  %none = onnx.NoValue
  %0 = onnx.ReduceMax %x, %none : (tensor<4x8xf32>, none) -> tensor<1x1xf32>
  return %0 : tensor<1x1xf32>
}

// Unsigned minimum starts at the largest code.
// CHECK-LABEL: func.func @reduce_min_unsigned
// CHECK:         %[[MAXCODE:.+]] = arith.constant -1 : i8
// CHECK:         linalg.fill ins(%[[MAXCODE]] : i8)
// CHECK:           arith.minui
func.func @reduce_min_unsigned(%x: tensor<4x8xui8>) -> tensor<4xui8> {
  %axes = onnx.Constant {value = dense<[1]> : tensor<1xi64>} : tensor<1xi64>
  %0 = onnx.ReduceMin %x, %axes {keepdims = 0 : i64} : (tensor<4x8xui8>, tensor<1xi64>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// CHECK-LABEL: func.func @reduce_min_noop
// CHECK-SAME:    (%[[X:.+]]: tensor<4x8xi8>)
// CHECK-NEXT:    return %[[X]]
func.func @reduce_min_noop(%x: tensor<4x8xui8>) -> tensor<4x8xui8> {
  %none = onnx.NoValue
  %0 = onnx.ReduceMin %x, %none {noop_with_empty_axes = 1 : i64} : (tensor<4x8xui8>, none) -> tensor<4x8xui8>
  return %0 : tensor<4x8xui8>
}

// Softmax: the row max, the sum of exp(x - max), then exp(x - max) / sum;
// the statistics are read back through projected maps.
// CHECK-LABEL: func.func @softmax
// CHECK-SAME:    (%[[X:.+]]: tensor<2x?xf32>)
// CHECK:         %[[MAX:.+]] = linalg.generic
// CHECK-SAME:      indexing_maps = [#[[$ID2]], #[[$ROW]]]
// CHECK-SAME:      iterator_types = ["parallel", "reduction"]
// CHECK-SAME:      ins(%[[X]] : tensor<2x?xf32>)
// CHECK:             arith.maximumf
// CHECK:         %[[SUM:.+]] = linalg.generic
// CHECK-SAME:      indexing_maps = [#[[$ID2]], #[[$ROW]], #[[$ROW]]]
// CHECK-SAME:      iterator_types = ["parallel", "reduction"]
// CHECK-SAME:      ins(%[[X]], %[[MAX]] : tensor<2x?xf32>, tensor<2xf32>)
// CHECK:           ^bb0(%[[IN:.+]]: f32, %[[M:.+]]: f32, %[[ACC:.+]]: f32):
// CHECK:             %[[SH:.+]] = arith.subf %[[IN]], %[[M]] : f32
// CHECK:             %[[E:.+]] = math.exp %[[SH]] : f32
// CHECK:             arith.addf %[[ACC]], %[[E]] : f32
// CHECK:         %[[Y:.+]] = linalg.generic
// CHECK-SAME:      indexing_maps = [#[[$ID2]], #[[$ROW]], #[[$ROW]], #[[$ID2]]]
// CHECK-SAME:      iterator_types = ["parallel", "parallel"]
// CHECK-SAME:      ins(%[[X]], %[[MAX]], %[[SUM]] : tensor<2x?xf32>, tensor<2xf32>, tensor<2xf32>)
// CHECK:           ^bb0(%[[IN2:.+]]: f32, %[[M2:.+]]: f32, %[[S2:.+]]: f32, %{{.+}}: f32):
// CHECK:             %[[SH2:.+]] = arith.subf %[[IN2]], %[[M2]] : f32
// CHECK:             %[[E2:.+]] = math.exp %[[SH2]] : f32
// CHECK:             arith.divf %[[E2]], %[[S2]] : f32
// CHECK:         return %[[Y]]
func.func @softmax(%x: tensor<2x?xf32>) -> tensor<2x?xf32> {
  %0 = onnx.Softmax %x : (tensor<2x?xf32>) -> tensor<2x?xf32>
  return %0 : tensor<2x?xf32>
}

// LogSoftmax on axis 0: (x - max) - log(sum).
// CHECK-LABEL: func.func @logsoftmax_axis0
// CHECK:         linalg.generic
// CHECK-SAME:      indexing_maps = [#[[$ID2]], #[[$COL]]]
// CHECK-SAME:      iterator_types = ["reduction", "parallel"]
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["reduction", "parallel"]
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel"]
// CHECK:           ^bb0(%[[IN:.+]]: f32, %[[M:.+]]: f32, %[[S:.+]]: f32, %{{.+}}: f32):
// CHECK:             %[[SH:.+]] = arith.subf %[[IN]], %[[M]] : f32
// CHECK:             %[[L:.+]] = math.log %[[S]] : f32
// CHECK:             arith.subf %[[SH]], %[[L]] : f32
func.func @logsoftmax_axis0(%x: tensor<5x3xf32>) -> tensor<5x3xf32> {
  %0 = onnx.LogSoftmax %x {axis = 0 : i64} : (tensor<5x3xf32>) -> tensor<5x3xf32>
  return %0 : tensor<5x3xf32>
}

// CumSum: a loop over the axis carrying the output and the running sum;
// reverse walks the axis backwards. Both updates are in place.
// CHECK-LABEL: func.func @cumsum_reverse
// CHECK-SAME:    (%[[X:.+]]: tensor<2x5xi64>)
// CHECK:         %[[ACC0:.+]] = linalg.fill ins(%{{.+}} : i64) outs(%{{.+}} : tensor<2xi64>)
// CHECK:         %[[OUT0:.+]] = tensor.empty() : tensor<2x5xi64>
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG:     %[[C5:.+]] = arith.constant 5 : index
// CHECK:         %[[LOOP:.+]]:2 = scf.for %[[I:.+]] = %{{.+}} to %[[C5]] step %[[C1]] iter_args(%[[OUT:.+]] = %[[OUT0]], %[[ACCUM:.+]] = %[[ACC0]])
// CHECK:           %[[LASTI:.+]] = arith.subi %[[C5]], %[[C1]] : index
// CHECK:           %[[J:.+]] = arith.subi %[[LASTI]], %[[I]] : index
// CHECK:           %[[XS:.+]] = tensor.extract_slice %[[X]][0, %[[J]]] [2, 1] [1, 1] : tensor<2x5xi64> to tensor<2xi64>
// CHECK:           %[[OS:.+]] = tensor.extract_slice %[[OUT]][0, %[[J]]] [2, 1] [1, 1] : tensor<2x5xi64> to tensor<2xi64>
// CHECK:           %[[NEXT:.+]] = linalg.generic
// CHECK-SAME:        ins(%[[XS]] : tensor<2xi64>) outs(%[[ACCUM]] : tensor<2xi64>)
// CHECK:             arith.addi
// CHECK:           %[[STORED:.+]] = linalg.generic
// CHECK-SAME:        ins(%[[NEXT]] : tensor<2xi64>) outs(%[[OS]] : tensor<2xi64>)
// CHECK:           %[[INS:.+]] = tensor.insert_slice %[[STORED]] into %[[OUT]][0, %[[J]]] [2, 1] [1, 1]
// CHECK:           scf.yield %[[INS]], %[[NEXT]]
// CHECK:         return %[[LOOP]]#0
func.func @cumsum_reverse(%x: tensor<2x5xi64>) -> tensor<2x5xi64> {
  %axis = onnx.Constant {value = dense<1> : tensor<i32>} : tensor<i32>
  %0 = onnx.CumSum %x, %axis {reverse = 1 : i64} : (tensor<2x5xi64>, tensor<i32>) -> tensor<2x5xi64>
  return %0 : tensor<2x5xi64>
}

// Exclusive: the sum so far is stored before the add.
// CHECK-LABEL: func.func @cumsum_exclusive
// CHECK:         scf.for
// CHECK:           %[[STORED:.+]] = linalg.generic
// CHECK-SAME:        ins(%[[ACCUM:[^ ]+]] : tensor<4xf32>)
// CHECK:           %[[NEXT:.+]] = linalg.generic
// CHECK-SAME:        outs(%[[ACCUM]] : tensor<4xf32>)
// CHECK:           tensor.insert_slice %[[STORED]]
func.func @cumsum_exclusive(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %axis = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %0 = onnx.CumSum %x, %axis {exclusive = 1 : i64} : (tensor<3x4xf32>, tensor<i64>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// LayerNormalization: sum -> mean, sum of squared deviations -> 1/sqrt(var +
// eps), then one normalising loop. Mean and InvStdDev come back with the
// normalised dims as size 1.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME:    (%[[X:.+]]: tensor<2x3x8xf16>, %[[S:.+]]: tensor<8xf16>, %[[B:.+]]: tensor<8xf16>)
// CHECK-DAG:     %[[N:.+]] = arith.constant 8.000000e+00 : f32
// CHECK-DAG:     %[[EPS:.+]] = arith.constant 1.000000e-03 : f32
// CHECK:         %[[SUM:.+]] = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel", "reduction"]
// CHECK:         %[[MEAN:.+]] = linalg.generic
// CHECK:             arith.divf %{{.+}}, %[[N]] : f32
// CHECK:         %[[SQ:.+]] = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME:      ins(%[[X]], %[[MEAN]] : tensor<2x3x8xf16>, tensor<2x3xf32>)
// CHECK:             %[[DEV:.+]] = arith.subf
// CHECK:             arith.mulf %[[DEV]], %[[DEV]] : f32
// CHECK:         %[[INV:.+]] = linalg.generic
// CHECK:             %[[VAR:.+]] = arith.divf %{{.+}}, %[[N]] : f32
// CHECK:             %[[VE:.+]] = arith.addf %[[VAR]], %[[EPS]] : f32
// CHECK:             %[[SD:.+]] = math.sqrt %[[VE]] : f32
// CHECK:             arith.divf %{{.+}}, %[[SD]] : f32
// CHECK:         %[[Y:.+]] = linalg.generic
// CHECK-SAME:      indexing_maps = [#[[$ID3]], #[[$DROPLAST3]], #[[$DROPLAST3]], #[[$LAST3]], #[[$LAST3]], #[[$ID3]]]
// CHECK-SAME:      ins(%[[X]], %[[MEAN]], %[[INV]], %[[S]], %[[B]] :
// CHECK:             arith.truncf %{{.+}} : f32 to f16
// CHECK:         %[[M:.+]] = tensor.expand_shape %[[MEAN]] {{\[}}[0], [1, 2]] output_shape [2, 3, 1]
// CHECK:         %[[I:.+]] = tensor.expand_shape %[[INV]] {{\[}}[0], [1, 2]] output_shape [2, 3, 1]
// CHECK:         return %[[Y]], %[[M]], %[[I]]
func.func @layer_norm(%x: tensor<2x3x8xf16>, %s: tensor<8xf16>, %b: tensor<8xf16>) -> (tensor<2x3x8xf16>, tensor<2x3x1xf32>, tensor<2x3x1xf32>) {
  %y, %m, %i = onnx.LayerNormalization %x, %s, %b {epsilon = 1.0e-3 : f32} : (tensor<2x3x8xf16>, tensor<8xf16>, tensor<8xf16>) -> (tensor<2x3x8xf16>, tensor<2x3x1xf32>, tensor<2x3x1xf32>)
  return %y, %m, %i : tensor<2x3x8xf16>, tensor<2x3x1xf32>, tensor<2x3x1xf32>
}

// RMSNorm: y = x * (1 / sqrt(mean(x^2) + eps)) * scale.
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME:    (%[[X:.+]]: tensor<2x8xf32>, %[[S:.+]]: tensor<8xf32>)
// CHECK:         %[[SQ:.+]] = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "reduction"]
// CHECK:           ^bb0(%[[IN:.+]]: f32, %[[ACC:.+]]: f32):
// CHECK:             %[[X2:.+]] = arith.mulf %[[IN]], %[[IN]] : f32
// CHECK:             arith.addf %[[ACC]], %[[X2]] : f32
// CHECK:         %[[INV:.+]] = linalg.generic
// CHECK:             math.sqrt
// CHECK:         %[[Y:.+]] = linalg.generic
// CHECK-SAME:      indexing_maps = [#[[$ID2]], #[[$ROW]], #[[$COL]], #[[$ID2]]]
// CHECK-SAME:      ins(%[[X]], %[[INV]], %[[S]] :
// CHECK:         %[[I:.+]] = tensor.expand_shape %[[INV]] {{\[}}[0, 1]] output_shape [2, 1]
// CHECK:         return %[[Y]], %[[I]]
func.func @rms_norm(%x: tensor<2x8xf32>, %s: tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>) {
  %y, %i = onnx.SimplifiedLayerNormalization %x, %s : (tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>)
  return %y, %i : tensor<2x8xf32>, tensor<2x1xf32>
}

// Skip RMSNorm re-adds input + skip + bias in every loop (no rounded
// intermediate feeds the statistics); `mean` is zeros.
// CHECK-LABEL: func.func @skip_rms_norm
// CHECK-SAME:    (%[[X:.+]]: tensor<2x8xf16>, %[[K:.+]]: tensor<2x8xf16>, %[[G:.+]]: tensor<8xf16>, %[[B:.+]]: tensor<8xf16>)
// CHECK:         %[[SUM:.+]] = linalg.generic
// CHECK-SAME:      ins(%[[X]], %[[K]], %[[B]] :
// CHECK:             arith.truncf %{{.+}} : f32 to f16
// CHECK:         %[[SQ:.+]] = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "reduction"]
// CHECK-SAME:      ins(%[[X]], %[[K]], %[[B]] :
// CHECK:         %[[INV:.+]] = linalg.generic
// CHECK:         %[[Y:.+]] = linalg.generic
// CHECK-SAME:      ins(%[[X]], %[[K]], %[[B]], %[[INV]], %[[G]] :
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[MEAN:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.+}} : tensor<2x1xf32>)
// CHECK:         %[[I:.+]] = tensor.expand_shape %[[INV]]
// CHECK:         return %[[Y]], %[[MEAN]], %[[I]], %[[SUM]]
func.func @skip_rms_norm(%x: tensor<2x8xf16>, %k: tensor<2x8xf16>, %g: tensor<8xf16>, %b: tensor<8xf16>) -> (tensor<2x8xf16>, tensor<2x1xf32>, tensor<2x1xf32>, tensor<2x8xf16>) {
  %y, %m, %i, %s = onnx.com.microsoft.SkipSimplifiedLayerNormalization %x, %k, %g, %b : (tensor<2x8xf16>, tensor<2x8xf16>, tensor<8xf16>, tensor<8xf16>) -> (tensor<2x8xf16>, tensor<2x1xf32>, tensor<2x1xf32>, tensor<2x8xf16>)
  return %y, %m, %i, %s : tensor<2x8xf16>, tensor<2x1xf32>, tensor<2x1xf32>, tensor<2x8xf16>
}

// -----

// A run-time axis: the value is checked against the rank, then one case per
// axis computes the sum along it.
// CHECK-LABEL: func.func @cumsum_runtime_axis
// CHECK: %[[AXIS:.*]] = tensor.extract %{{.*}}[] : tensor<i64>
// CHECK: qaf.check %{{.*}}, "onnx.CumSum: axis {0} is out of range for the input's rank {1}"
// CHECK: scf.index_switch %{{.*}} -> tensor<2x3xf32>
// CHECK: case 1 {
// CHECK: default {
func.func @cumsum_runtime_axis(%x: tensor<2x3xf32>, %axis: tensor<i64>) -> tensor<2x3xf32> {
  %0 = onnx.CumSum %x, %axis : (tensor<2x3xf32>, tensor<i64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// Run-time axes: the axes' count is static, so the mask of reduced
// dimensions picks one of the subsets of that size that fit the result type.
// CHECK-LABEL: func.func @reduce_sum_runtime_axes
// CHECK: qaf.check %{{.*}}, "onnx.ReduceSum: axes are out of range, repeated, or do not give the declared result shape"
// CHECK: scf.index_switch %{{.*}} -> tensor<?x?xf32>
// CHECK: case 2 {
// CHECK: default {
func.func @reduce_sum_runtime_axes(%x: tensor<2x3xf32>, %axes: tensor<1xi64>) -> tensor<?x?xf32> {
  %0 = onnx.ReduceSum %x, %axes : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// RUN: qaf-opt --qaf-convert-onnx-to-linalg %s | FileCheck %s

// Broadcasting is in the indexing maps: the rank-1 operand is right-aligned.
// CHECK-DAG: #[[$ID2:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$LAST:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[$COL0:.+]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-DAG: #[[$ID1:.+]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[$ZERO1:.+]] = affine_map<(d0) -> (0)>
// CHECK-DAG: #[[$SCALAR2:.+]] = affine_map<(d0, d1) -> ()>

// CHECK-LABEL: func.func @add_broadcast
// CHECK-SAME:    (%[[A:.+]]: tensor<2x3xf32>, %[[B:.+]]: tensor<3xf32>)
// CHECK:         %[[INIT:.+]] = tensor.empty() : tensor<2x3xf32>
// CHECK:         %[[SUM:.+]] = linalg.generic
// CHECK-SAME:      indexing_maps = [#[[$ID2]], #[[$LAST]], #[[$ID2]]]
// CHECK-SAME:      iterator_types = ["parallel", "parallel"]
// CHECK-SAME:      ins(%[[A]], %[[B]] : tensor<2x3xf32>, tensor<3xf32>)
// CHECK-SAME:      outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK:           ^bb0(%[[X:.+]]: f32, %[[Y:.+]]: f32, %{{.+}}: f32):
// CHECK:             %[[R:.+]] = arith.addf %[[X]], %[[Y]] : f32
// CHECK:             linalg.yield %[[R]] : f32
// CHECK:         return %[[SUM]]
func.func @add_broadcast(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = onnx.Add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// Unsigned element types become signless; the division stays unsigned. A
// static size-1 dim reads index 0.
// CHECK-LABEL: func.func @div_unsigned
// CHECK-SAME:    (%{{.+}}: tensor<4xi8>, %{{.+}}: tensor<1xi8>) -> tensor<4xi8>
// CHECK:         linalg.generic {indexing_maps = [#[[$ID1]], #[[$ZERO1]], #[[$ID1]]]
// CHECK:           arith.divui %{{.+}}, %{{.+}} : i8
func.func @div_unsigned(%a: tensor<4xui8>, %b: tensor<1xui8>) -> tensor<4xui8> {
  %0 = onnx.Div %a, %b : (tensor<4xui8>, tensor<1xui8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// CHECK-LABEL: func.func @div_signed
// CHECK:         arith.divsi %{{.+}}, %{{.+}} : i32
func.func @div_signed(%a: tensor<4xi32>, %b: tensor<4xi32>) -> tensor<4xi32> {
  %0 = onnx.Div %a, %b : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// Two dynamic sizes in one result dim broadcast at run time as ONNX Runtime
// does: each is the other or 1, and the result takes the one that is not 1.
// An operand reads the result's size through a slice whose stride is 1 when
// the sizes agree and 0 when its own is a run-time 1 (its one element
// repeated); the static size-1 dim of %b stays in the indexing map.
// CHECK-LABEL: func.func @mul_dynamic
// CHECK-SAME:    (%[[A:.+]]: tensor<?x4xf32>, %[[B:.+]]: tensor<?x1xf32>)
// CHECK-DAG:     %[[DA:.+]] = tensor.dim %[[A]], %{{.+}} : tensor<?x4xf32>
// CHECK-DAG:     %[[DB:.+]] = tensor.dim %[[B]], %{{.+}} : tensor<?x1xf32>
// CHECK:         %[[AONE:.+]] = arith.cmpi eq, %[[DA]], %[[C1:.+]] : index
// CHECK:         %[[SAME:.+]] = arith.cmpi eq, %[[DB]], %[[DA]] : index
// CHECK:         %[[OK1:.+]] = arith.ori %[[SAME]], %[[AONE]] : i1
// CHECK:         %[[BONE:.+]] = arith.cmpi eq, %[[DB]], %[[C1]] : index
// CHECK:         %[[OK:.+]] = arith.ori %[[OK1]], %[[BONE]] : i1
// CHECK:         qaf.check %[[OK]], "onnx.Mul: sizes {0} and {1} of dimension 0 do not broadcast"(%[[DA]], %[[DB]] : index, index)
// CHECK:         %[[D:.+]] = arith.select %[[AONE]], %[[DB]], %[[DA]] : index
// CHECK:         %[[AFULL:.+]] = arith.cmpi eq, %[[DA]], %[[D]] : index
// CHECK:         %[[ASTRIDE:.+]] = arith.select %[[AFULL]], %{{.+}}, %{{.+}} : index
// CHECK:         %[[AVIEW:.+]] = tensor.extract_slice %[[A]][0, 0] [%[[D]], 4] [%[[ASTRIDE]], 1] : tensor<?x4xf32> to tensor<?x4xf32>
// CHECK:         %[[BFULL:.+]] = arith.cmpi eq, %[[DB]], %[[D]] : index
// CHECK:         %[[BSTRIDE:.+]] = arith.select %[[BFULL]], %{{.+}}, %{{.+}} : index
// CHECK:         %[[BVIEW:.+]] = tensor.extract_slice %[[B]][0, 0] [%[[D]], 1] [%[[BSTRIDE]], 1] : tensor<?x1xf32> to tensor<?x1xf32>
// CHECK:         %[[INIT:.+]] = tensor.empty(%[[D]]) : tensor<?x4xf32>
// CHECK:         linalg.generic {indexing_maps = [#[[$ID2]], #[[$COL0]], #[[$ID2]]]
// CHECK-SAME:      ins(%[[AVIEW]], %[[BVIEW]] : tensor<?x4xf32>, tensor<?x1xf32>)
// CHECK:           arith.mulf
func.func @mul_dynamic(%a: tensor<?x4xf32>, %b: tensor<?x1xf32>) -> tensor<?x4xf32> {
  %0 = onnx.Mul %a, %b : (tensor<?x4xf32>, tensor<?x1xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// [?, 1] against [1, ?]: each dynamic dim meets a static 1 only, so it is
// the result's own size and reads straight through; no check, no slice.
// CHECK-LABEL: func.func @add_outer_dynamic
// CHECK-SAME:    (%[[A:.+]]: tensor<?x1xf32>, %[[B:.+]]: tensor<1x?xf32>)
// CHECK-NOT:     qaf.check
// CHECK-NOT:     tensor.extract_slice
// CHECK:         linalg.generic {indexing_maps = [#[[$COL0]], #[[$ROW0:.+]], #[[$ID2]]]
// CHECK-SAME:      ins(%[[A]], %[[B]] : tensor<?x1xf32>, tensor<1x?xf32>)
func.func @add_outer_dynamic(%a: tensor<?x1xf32>, %b: tensor<1x?xf32>) -> tensor<?x?xf32> {
  %0 = onnx.Add %a, %b : (tensor<?x1xf32>, tensor<1x?xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// A dynamic size against a static one must be it or 1; the operand is read
// with the static size (stride 0 when it is a run-time 1).
// CHECK-LABEL: func.func @sub_dynamic_static
// CHECK-SAME:    (%[[A:.+]]: tensor<?xf32>, %[[B:.+]]: tensor<5xf32>)
// CHECK:         %[[D:.+]] = tensor.dim %[[A]]
// CHECK:         %[[C5:.+]] = arith.constant 5 : index
// CHECK:         %[[FIVE:.+]] = arith.cmpi eq, %[[D]], %[[C5]] : index
// CHECK:         %[[ONE:.+]] = arith.cmpi eq, %[[D]], %{{.+}} : index
// CHECK:         %[[OK:.+]] = arith.ori %[[FIVE]], %[[ONE]] : i1
// CHECK:         qaf.check %[[OK]], "onnx.Sub: dimension 0 of size {0} does not broadcast with the static size {1} of another operand"(%[[D]], %[[C5]] : index, index)
// CHECK:         %[[STRIDE:.+]] = arith.select
// CHECK:         %[[VIEW:.+]] = tensor.extract_slice %[[A]][0] [5] [%[[STRIDE]]] : tensor<?xf32> to tensor<5xf32>
// CHECK:         tensor.empty() : tensor<5xf32>
// CHECK:         linalg.generic {{.*}} ins(%[[VIEW]], %[[B]] : tensor<5xf32>, tensor<5xf32>)
// CHECK:           arith.subf
func.func @sub_dynamic_static(%a: tensor<?xf32>, %b: tensor<5xf32>) -> tensor<5xf32> {
  %0 = onnx.Sub %a, %b : (tensor<?xf32>, tensor<5xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// Three operands (Where): the result size is folded over the dynamic ones
// in turn, each check naming the running size and the next one.
// CHECK-LABEL: func.func @where_dynamic
// CHECK:         qaf.check %{{.+}}, "onnx.Where: sizes {0} and {1} of dimension 0 do not broadcast"
// CHECK:         %[[D1:.+]] = arith.select
// CHECK:         qaf.check %{{.+}}, "onnx.Where: sizes {0} and {1} of dimension 0 do not broadcast"(%[[D1]], %{{.+}} : index, index)
// CHECK:         %[[D:.+]] = arith.select %{{.+}}, %{{.+}}, %[[D1]] : index
// CHECK-COUNT-3: tensor.extract_slice %{{.+}}[0] [%[[D]]] [%{{.+}}]
// CHECK:         linalg.generic
// CHECK:           arith.select
func.func @where_dynamic(%c: tensor<?xi1>, %a: tensor<?xf32>, %b: tensor<?xf32>) -> tensor<?xf32> {
  %0 = onnx.Where %c, %a, %b : (tensor<?xi1>, tensor<?xf32>, tensor<?xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// Integer powers: the exponent is converted to the base type.
// CHECK-LABEL: func.func @pow_int
// CHECK:         ^bb0(%[[X:.+]]: i32, %[[Y:.+]]: i64, %{{.+}}: i32):
// CHECK:           %[[Y32:.+]] = arith.trunci %[[Y]] : i64 to i32
// CHECK:           math.ipowi %[[X]], %[[Y32]] : i32
func.func @pow_int(%a: tensor<3xi32>, %b: tensor<3xi64>) -> tensor<3xi32> {
  %0 = onnx.Pow %a, %b : (tensor<3xi32>, tensor<3xi64>) -> tensor<3xi32>
  return %0 : tensor<3xi32>
}

// A float base with an integer exponent: powf on the converted exponent.
// CHECK-LABEL: func.func @pow_float_int
// CHECK:         ^bb0(%[[X:.+]]: f32, %[[Y:.+]]: i64, %{{.+}}: f32):
// CHECK:           %[[YF:.+]] = arith.sitofp %[[Y]] : i64 to f32
// CHECK:           math.powf %[[X]], %[[YF]] : f32
func.func @pow_float_int(%a: tensor<3xf32>, %b: tensor<3xi64>) -> tensor<3xf32> {
  %0 = onnx.Pow %a, %b : (tensor<3xf32>, tensor<3xi64>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// CHECK-LABEL: func.func @less_unsigned
// CHECK:         arith.cmpi ult, %{{.+}}, %{{.+}} : i16
func.func @less_unsigned(%a: tensor<3xui16>, %b: tensor<3xui16>) -> tensor<3xi1> {
  %0 = onnx.Less %a, %b : (tensor<3xui16>, tensor<3xui16>) -> tensor<3xi1>
  return %0 : tensor<3xi1>
}

// Float comparisons are ordered: anything against NaN is false.
// CHECK-LABEL: func.func @equal_float
// CHECK:         arith.cmpf oeq, %{{.+}}, %{{.+}} : f32
func.func @equal_float(%a: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<3xi1> {
  %0 = onnx.Equal %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
  return %0 : tensor<3xi1>
}

// CHECK-LABEL: func.func @not
// CHECK:         %[[TRUE:.+]] = arith.constant true
// CHECK:         arith.xori %{{.+}}, %[[TRUE]] : i1
func.func @not(%a: tensor<3xi1>) -> tensor<3xi1> {
  %0 = onnx.Not %a : (tensor<3xi1>) -> tensor<3xi1>
  return %0 : tensor<3xi1>
}

// float -> uint8 truncates toward zero; NaN and out-of-range inputs get
// defined results (0, the bounds) instead of poison.
// CHECK-LABEL: func.func @cast_f32_to_ui8
// CHECK-SAME:    -> tensor<3xi8>
// CHECK:         ^bb0(%[[X:.+]]: f32, %{{.+}}: i8):
// CHECK:           %[[T:.+]] = arith.fptoui %[[X]] : f32 to i8
// CHECK-DAG:       %[[HI:.+]] = arith.constant 2.560000e+02 : f32
// CHECK-DAG:       %[[MAX:.+]] = arith.constant -1 : i8
// CHECK:           %[[BIG:.+]] = arith.cmpf oge, %[[X]], %[[HI]] : f32
// CHECK:           %[[SMALL:.+]] = arith.cmpf ole, %[[X]], %{{.+}} : f32
// CHECK:           %[[NAN:.+]] = arith.cmpf uno, %[[X]], %[[X]] : f32
// CHECK:           %[[S1:.+]] = arith.select %[[BIG]], %[[MAX]], %[[T]] : i8
// CHECK:           %[[S2:.+]] = arith.select %[[SMALL]], %{{.+}}, %[[S1]] : i8
// CHECK:           %[[S3:.+]] = arith.select %[[NAN]], %{{.+}}, %[[S2]] : i8
// CHECK:           linalg.yield %[[S3]] : i8
func.func @cast_f32_to_ui8(%a: tensor<3xf32>) -> tensor<3xui8> {
  %0 = onnx.Cast %a {to = 2 : i64} : (tensor<3xf32>) -> tensor<3xui8>
  return %0 : tensor<3xui8>
}

// The source's signedness picks the extension.
// CHECK-LABEL: func.func @cast_ui8_to_i32
// CHECK:         arith.extui %{{.+}} : i8 to i32
func.func @cast_ui8_to_i32(%a: tensor<3xui8>) -> tensor<3xi32> {
  %0 = onnx.Cast %a {to = 6 : i64} : (tensor<3xui8>) -> tensor<3xi32>
  return %0 : tensor<3xi32>
}

// CHECK-LABEL: func.func @cast_ui32_to_f16
// CHECK:         arith.uitofp %{{.+}} : i32 to f16
func.func @cast_ui32_to_f16(%a: tensor<3xui32>) -> tensor<3xf16> {
  %0 = onnx.Cast %a {to = 10 : i64} : (tensor<3xui32>) -> tensor<3xf16>
  return %0 : tensor<3xf16>
}

// To bool is "!= 0" (unordered, so NaN is true).
// CHECK-LABEL: func.func @cast_f32_to_bool
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         arith.cmpf une, %{{.+}}, %[[ZERO]] : f32
func.func @cast_f32_to_bool(%a: tensor<3xf32>) -> tensor<3xi1> {
  %0 = onnx.Cast %a {to = 9 : i64} : (tensor<3xf32>) -> tensor<3xi1>
  return %0 : tensor<3xi1>
}

// f16 <-> bf16 goes through f32.
// CHECK-LABEL: func.func @castlike_f16_to_bf16
// CHECK:         %[[W:.+]] = arith.extf %{{.+}} : f16 to f32
// CHECK:         arith.truncf %[[W]] : f32 to bf16
func.func @castlike_f16_to_bf16(%a: tensor<3xf16>, %t: tensor<1xbf16>) -> tensor<3xbf16> {
  %0 = onnx.CastLike %a, %t : (tensor<3xf16>, tensor<1xbf16>) -> tensor<3xbf16>
  return %0 : tensor<3xbf16>
}

// An omitted bound is no bound; the given one is read once, outside the loop.
// CHECK-LABEL: func.func @clip_max_only
// CHECK-SAME:    (%[[X:.+]]: tensor<3xf16>, %[[HI:.+]]: tensor<f16>)
// CHECK:         %[[BOUND:.+]] = tensor.extract %[[HI]][] : tensor<f16>
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[X]] : tensor<3xf16>)
// CHECK:           arith.minimumf %{{.+}}, %[[BOUND]] : f16
// CHECK-NOT:       arith.maximumf
// CHECK:         return
func.func @clip_max_only(%a: tensor<3xf16>, %hi: tensor<f16>) -> tensor<3xf16> {
  %none = onnx.NoValue
  %0 = onnx.Clip %a, %none, %hi : (tensor<3xf16>, none, tensor<f16>) -> tensor<3xf16>
  return %0 : tensor<3xf16>
}

// CHECK-LABEL: func.func @clip_int8
// CHECK:         arith.maxsi
// CHECK:         arith.minsi
func.func @clip_int8(%a: tensor<3xi8>, %lo: tensor<i8>, %hi: tensor<i8>) -> tensor<3xi8> {
  %0 = onnx.Clip %a, %lo, %hi : (tensor<3xi8>, tensor<i8>, tensor<i8>) -> tensor<3xi8>
  return %0 : tensor<3xi8>
}

// Constants keep their bits with a signless type.
// CHECK-LABEL: func.func @constant_unsigned
// CHECK:         %[[C:.+]] = arith.constant dense<[-6, 3]> : tensor<2xi8>
// CHECK:         return %[[C]] : tensor<2xi8>
func.func @constant_unsigned() -> tensor<2xui8> {
  %0 = onnx.Constant {value = dense<[250, 3]> : tensor<2xui8>} : tensor<2xui8>
  return %0 : tensor<2xui8>
}

// Blobs keep their handle: nothing is copied.
// CHECK-LABEL: func.func @constant_resource
// CHECK:         arith.constant dense_resource<weight> : tensor<4xi8>
func.func @constant_resource() -> tensor<4xui8> {
  %0 = onnx.Constant {value = dense_resource<weight> : tensor<4xui8>} : tensor<4xui8>
  return %0 : tensor<4xui8>
}

// Half-precision math is computed in f32 and rounded once. Sigmoid uses
// e^-|x| so neither tail overflows.
// CHECK-LABEL: func.func @sigmoid_f16
// CHECK:         ^bb0(%[[X:.+]]: f16, %{{.+}}: f16):
// CHECK:           %[[W:.+]] = arith.extf %[[X]] : f16 to f32
// CHECK:           %[[ABS:.+]] = math.absf %[[W]] : f32
// CHECK:           %[[NEG:.+]] = arith.negf %[[ABS]] : f32
// CHECK:           %[[E:.+]] = math.exp %[[NEG]] : f32
// CHECK:           %[[POS:.+]] = arith.divf
// CHECK:           %[[NEGV:.+]] = arith.mulf %[[E]], %[[POS]] : f32
// CHECK:           %[[GE:.+]] = arith.cmpf oge, %[[W]]
// CHECK:           %[[SEL:.+]] = arith.select %[[GE]], %[[POS]], %[[NEGV]] : f32
// CHECK:           %[[R:.+]] = arith.truncf %[[SEL]] : f32 to f16
// CHECK:           linalg.yield %[[R]] : f16
func.func @sigmoid_f16(%a: tensor<3xf16>) -> tensor<3xf16> {
  %0 = onnx.Sigmoid %a : (tensor<3xf16>) -> tensor<3xf16>
  return %0 : tensor<3xf16>
}

// CHECK-LABEL: func.func @erf_f32
// CHECK-NOT:     arith.extf
// CHECK:         math.erf %{{.+}} : f32
func.func @erf_f32(%a: tensor<3xf32>) -> tensor<3xf32> {
  %0 = onnx.Erf %a : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// Where broadcasts all three operands (a 0-d one reads with an empty map).
// CHECK-LABEL: func.func @where
// CHECK:         linalg.generic {indexing_maps = [#[[$COL0]], #[[$LAST]], #[[$SCALAR2]], #[[$ID2]]]
// CHECK:           ^bb0(%[[C:.+]]: i1, %[[X:.+]]: f32, %[[Y:.+]]: f32, %{{.+}}: f32):
// CHECK:             arith.select %[[C]], %[[X]], %[[Y]] : f32
func.func @where(%c: tensor<3x1xi1>, %x: tensor<4xf32>, %y: tensor<f32>) -> tensor<3x4xf32> {
  %0 = onnx.Where %c, %x, %y : (tensor<3x1xi1>, tensor<4xf32>, tensor<f32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// Max folds its operands left to right; maximumf propagates NaN.
// CHECK-LABEL: func.func @max3
// CHECK:         ^bb0(%[[A:.+]]: f32, %[[B:.+]]: f32, %[[C:.+]]: f32, %{{.+}}: f32):
// CHECK:           %[[AB:.+]] = arith.maximumf %[[A]], %[[B]] : f32
// CHECK:           arith.maximumf %[[AB]], %[[C]] : f32
func.func @max3(%a: tensor<3xf32>, %b: tensor<3xf32>, %c: tensor<1xf32>) -> tensor<3xf32> {
  %0 = onnx.Max %a, %b, %c : (tensor<3xf32>, tensor<3xf32>, tensor<1xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// CHECK-LABEL: func.func @min_unsigned
// CHECK:         arith.minui %{{.+}}, %{{.+}} : i32
func.func @min_unsigned(%a: tensor<3xui32>, %b: tensor<3xui32>) -> tensor<3xui32> {
  %0 = onnx.Min %a, %b : (tensor<3xui32>, tensor<3xui32>) -> tensor<3xui32>
  return %0 : tensor<3xui32>
}

// CHECK-LABEL: func.func @gelu_none
// CHECK:         %[[SQRT1_2:.+]] = arith.constant 0.707106769 : f32
// CHECK:         %[[S:.+]] = arith.mulf %{{.+}}, %[[SQRT1_2]] : f32
// CHECK:         math.erf %[[S]] : f32
func.func @gelu_none(%a: tensor<3xf32>) -> tensor<3xf32> {
  %0 = onnx.Gelu %a : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// CHECK-LABEL: func.func @gelu_tanh
// CHECK:         arith.constant 4.471500e-02 : f32
// CHECK:         arith.constant 0.797884583 : f32
// CHECK:         math.tanh
func.func @gelu_tanh(%a: tensor<3xf32>) -> tensor<3xf32> {
  %0 = onnx.Gelu %a {approximate = "tanh"} : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// CHECK-LABEL: func.func @relu_int
// CHECK:         %[[ZERO:.+]] = arith.constant 0 : i32
// CHECK:         arith.maxsi %{{.+}}, %[[ZERO]] : i32
func.func @relu_int(%a: tensor<3xi32>) -> tensor<3xi32> {
  %0 = onnx.Relu %a : (tensor<3xi32>) -> tensor<3xi32>
  return %0 : tensor<3xi32>
}

// CHECK-LABEL: func.func @identity
// CHECK-SAME:    (%[[A:.+]]: tensor<3xi8>) -> tensor<3xi8>
// CHECK-NEXT:    return %[[A]] : tensor<3xi8>
func.func @identity(%a: tensor<3xui8>) -> tensor<3xui8> {
  %0 = onnx.Identity %a : (tensor<3xui8>) -> tensor<3xui8>
  return %0 : tensor<3xui8>
}

// A result type more static than the computed one gets a tensor.cast.
// CHECK-LABEL: func.func @neg_refined
// CHECK:         %[[R:.+]] = linalg.generic
// CHECK:         %[[CAST:.+]] = tensor.cast %[[R]] : tensor<?xf32> to tensor<4xf32>
// CHECK:         return %[[CAST]]
func.func @neg_refined(%a: tensor<?xf32>) -> tensor<4xf32> {
  %0 = onnx.Neg %a : (tensor<?xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

{-#
  dialect_resources: {
    builtin: {
      weight: "0x0100000001020304"
    }
  }
#-}

// IsNaN: x unordered with itself; f16 widens to f32 first (exactly).
// CHECK-LABEL: func.func @isnan_f16
// CHECK-SAME:    -> tensor<2x3xi1>
// CHECK:         ^bb0(%[[X:.+]]: f16, %{{.+}}: i1):
// CHECK:           %[[W:.+]] = arith.extf %[[X]] : f16 to f32
// CHECK:           %[[NAN:.+]] = arith.cmpf uno, %[[W]], %[[W]] : f32
// CHECK:           linalg.yield %[[NAN]] : i1
func.func @isnan_f16(%x: tensor<2x3xf16>) -> tensor<2x3xi1> {
  %0 = onnx.IsNaN %x : (tensor<2x3xf16>) -> tensor<2x3xi1>
  return %0 : tensor<2x3xi1>
}

// CHECK-LABEL: func.func @isnan_f64
// CHECK:         arith.cmpf uno, %{{.+}}, %{{.+}} : f64
func.func @isnan_f64(%x: tensor<3xf64>) -> tensor<3xi1> {
  %0 = onnx.IsNaN %x : (tensor<3xf64>) -> tensor<3xi1>
  return %0 : tensor<3xi1>
}

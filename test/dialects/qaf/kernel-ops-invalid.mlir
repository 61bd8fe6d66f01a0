// RUN: qaf-opt %s -split-input-file -verify-diagnostics

// One case per verifier error of qaf.kernel.qlinear: it admits only what
// the qaf_qlinear kernel computes.

// -----

func.func @bits(%x: tensor<2x128xf32>, %s: tensor<8x2xf32>, %c: tensor<8x80xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{attribute 'bits' failed to satisfy constraint: 64-bit signless integer attribute whose value is one of {2, 3, 4, 8}}}
  %r = qaf.kernel.qlinear bits(5) group_size(64) input(%x : tensor<2x128xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x80xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @group_size(%x: tensor<2x128xf32>, %s: tensor<8x2xf32>, %c: tensor<8x64xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{attribute 'group_size' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %r = qaf.kernel.qlinear bits(4) group_size(0) input(%x : tensor<2x128xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @element_type(%x: tensor<2x128xf16>, %s: tensor<8x2xf32>, %c: tensor<8x64xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{operand #0 must be 2D tensor of 32-bit float values or 2D memref of 32-bit float values}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<2x128xf16>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @mixed(%x: memref<2x128xf32>, %s: tensor<8x2xf32>, %c: tensor<8x64xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{operands must be all tensors or all buffers, not 'memref<2x128xf32>' with 'tensor<2x8xf32>'}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%x : memref<2x128xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @result(%x: tensor<2x128xf32>, %s: tensor<8x2xf32>, %c: tensor<8x64xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{expected the number of tensor results (0) to be equal to the number of output tensors (1)}}
  qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<2x128xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x8xf32>)
  return
}

// -----

func.func @partial_bytes(%x: tensor<2x96xf32>, %s: tensor<8x32xf32>, %c: tensor<8x48xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{groups of 3 4-bit codes are not whole bytes, which the kernel needs}}
  %r = qaf.kernel.qlinear bits(4) group_size(3) input(%x : tensor<2x96xf32>) scales(%s : tensor<8x32xf32>) zero_points(%s : tensor<8x32xf32>) codes(%c : tensor<8x48xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @dynamic_weight(%x: tensor<2x128xf32>, %s: tensor<?x2xf32>, %z: tensor<8x2xf32>, %c: tensor<8x64xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{scales must have a static shape, not 'tensor<?x2xf32>'}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<2x128xf32>) scales(%s : tensor<?x2xf32>) zero_points(%z : tensor<8x2xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @partial_codes(%x: tensor<2x128xf32>, %s: tensor<8x2xf32>, %c: tensor<8x47xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{codes rows of 47 bytes do not hold whole 3-bit codes}}
  %r = qaf.kernel.qlinear bits(3) group_size(64) input(%x : tensor<2x128xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x47xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @group_divides(%x: tensor<2x96xf32>, %s: tensor<8x2xf32>, %c: tensor<8x48xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{group size 64 does not divide the 96 input features the codes hold}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<2x96xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x48xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @scales_shape(%x: tensor<2x128xf32>, %s: tensor<8x4xf32>, %c: tensor<8x64xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{scales must have shape [8, 2], not 'tensor<8x4xf32>'}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<2x128xf32>) scales(%s : tensor<8x4xf32>) zero_points(%s : tensor<8x4xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @moves_shape(%x: tensor<2x128xf32>, %s: tensor<8x2xf32>, %m: tensor<8x64xi8>, %c: tensor<8x64xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{moves must have shape [8, 128], not 'tensor<8x64xi8>'}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<2x128xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) moves(%m : tensor<8x64xi8>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @input_features(%x: tensor<2x64xf32>, %s: tensor<8x2xf32>, %c: tensor<8x64xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{the input has 64 features, the codes hold 128}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<2x64xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @init_columns(%x: tensor<2x128xf32>, %s: tensor<8x2xf32>, %c: tensor<8x64xi8>, %y: tensor<2x9xf32>) {
  // expected-error @+1 {{init has 9 columns, the codes hold 8 rows}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<2x128xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x9xf32>) -> tensor<2x9xf32>
  return
}

// -----

func.func @init_rows(%x: tensor<2x128xf32>, %s: tensor<8x2xf32>, %c: tensor<8x64xi8>, %y: tensor<3x8xf32>) {
  // expected-error @+1 {{init has 3 rows, the input 2}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<2x128xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<3x8xf32>) -> tensor<3x8xf32>
  return
}

// -----

func.func @strided_rows(%x: memref<2x128xf32, strided<[1, 2]>>, %s: memref<8x2xf32>, %c: memref<8x64xi8>, %y: memref<2x8xf32>) {
  // expected-error @+1 {{the kernel reads contiguous rows: 'memref<2x128xf32, strided<[1, 2]>>' has no unit innermost stride}}
  qaf.kernel.qlinear bits(4) group_size(64) input(%x : memref<2x128xf32, strided<[1, 2]>>) scales(%s : memref<8x2xf32>) zero_points(%s : memref<8x2xf32>) codes(%c : memref<8x64xi8>) outs(%y : memref<2x8xf32>)
  return
}

// -----

func.func @transposed_wrong_init(%g: tensor<2x8xf32>, %s: tensor<8x2xf32>, %c: tensor<8x64xi8>, %y: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{init has 8 columns, the codes hold 128 codes per row}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%g : tensor<2x8xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x8xf32>) transpose_weight -> tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}

// -----

func.func @neither_zero_points_nor_codebook(%x: tensor<2x128xf32>, %s: tensor<8x2xf32>, %c: tensor<8x64xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{needs zero points or a codebook, one of them}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<2x128xf32>) scales(%s : tensor<8x2xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @zero_points_and_codebook(%x: tensor<2x128xf32>, %s: tensor<8x2xf32>, %t: tensor<16xf32>, %c: tensor<8x64xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{needs zero points or a codebook, one of them}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<2x128xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codebook(%t : tensor<16xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @codebook_with_moves(%x: tensor<2x128xf32>, %s: tensor<8x2xf32>, %m: tensor<8x128xi8>, %t: tensor<16xf32>, %c: tensor<8x64xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{moves apply to affine codes, not to a codebook's}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<2x128xf32>) scales(%s : tensor<8x2xf32>) moves(%m : tensor<8x128xi8>) codebook(%t : tensor<16xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @codebook_size(%x: tensor<2x128xf32>, %s: tensor<8x2xf32>, %t: tensor<4xf32>, %c: tensor<8x64xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{codebook must have shape [16], not 'tensor<4xf32>'}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<2x128xf32>) scales(%s : tensor<8x2xf32>) codebook(%t : tensor<4xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

// Zero points are one per row and group, or one row every row reads: two
// rows of eight are neither.
func.func @zero_points_rows(%x: tensor<2x128xf32>, %s: tensor<8x2xf32>, %z: tensor<2x2xf32>, %c: tensor<8x64xi8>, %y: tensor<2x8xf32>) {
  // expected-error @+1 {{zero_points must have shape [8, 2], not 'tensor<2x2xf32>'}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<2x128xf32>) scales(%s : tensor<8x2xf32>) zero_points(%z : tensor<2x2xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @int8_input_gradient(%g: tensor<2x8xf32>, %s: tensor<8x2xf32>, %c: tensor<8x64xi8>, %y: tensor<2x128xf32>) {
  // expected-error @+1 {{int8 activations apply to the layer's product, not to its input gradient (transpose_weight)}}
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%g : tensor<2x8xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x64xi8>) outs(%y : tensor<2x128xf32>) transpose_weight int8_activations -> tensor<2x128xf32>
  return
}

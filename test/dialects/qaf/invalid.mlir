// RUN: qaf-opt %s -split-input-file -verify-diagnostics

// One case per verifier error of the qaf ops and the format attribute.

// -----

func.func @bad_bits(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) {
  // expected-error @+1 {{bits must be 2, 3, 4 or 8, not 5}}
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 5, group_size = 64, scheme = asym>} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @nf_3bit(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) {
  // expected-error @+1 {{the nf scheme has codebooks for 2 and 4 bits, not 3}}
  %y = qaf.qlinear %x, %c, %s {format = #qaf.qformat<bits = 3, group_size = 64, scheme = nf>} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @zero_group(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) {
  // expected-error @+1 {{group size must be positive, not 0}}
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 0, scheme = asym>} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @group_not_dividing(%x: tensor<2x100xf32>, %c: tensor<8x50xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.qlinear' op group size 48 does not divide the input dimension 100}}
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 48, scheme = asym>} : (tensor<2x100xf32>, tensor<8x50xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @codes_shape(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.qlinear' op the input has 128 features, the weights take 64}}
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 8, group_size = 64, scheme = asym>} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @scales_shape(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x4xf32>, %z: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.qlinear' op scales must have shape [8, 2], not 'tensor<8x4xf32>'}}
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x4xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @missing_zeros(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.qlinear' op the asym scheme needs zero points}}
  %y = qaf.qlinear %x, %c, %s {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @nf_with_zeros(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.qlinear' op the nf scheme has no zero points (w = s * codebook[q])}}
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = nf>} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @dynamic_n(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.qlinear' op the result's last dimension (output features) must be static}}
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x?xf32>
  return
}

// -----

func.func @batch_mismatch(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.qlinear' op result dimension 0 is 3, the input's is 2}}
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<3x8xf32>
  return
}

// -----

func.func @odd_bytes(%x: tensor<2x4xf32>, %c: tensor<8x1xui8>, %s: tensor<8x1xf32>, %z: tensor<8x1xf32>) {
  // expected-error @+1 {{'qaf.qlinear' op codes rows of 1 bytes do not hold whole 3-bit codes}}
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 3, group_size = 4, scheme = asym>} : (tensor<2x4xf32>, tensor<8x1xui8>, tensor<8x1xf32>, tensor<8x1xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @lota_omega_high(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>, %a: tensor<16x128xi8>, %b: tensor<8x16xi8>) {
  // expected-error @+1 {{'qaf.lota_linear' op threshold omega must be in (0, rank = 16), not 1.600000e+01}}
  %y = qaf.lota_linear %x, %c, %s, %z, %a, %b {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>, omega = 16.0 : f64} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<16x128xi8>, tensor<8x16xi8>) -> tensor<2x8xf32>
  return
}

// -----

func.func @lota_omega_zero(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>, %a: tensor<16x128xi8>, %b: tensor<8x16xi8>) {
  // expected-error @+1 {{'qaf.lota_linear' op attribute 'omega' failed to satisfy constraint: 64-bit float attribute whose value is positive and finite}}
  %y = qaf.lota_linear %x, %c, %s, %z, %a, %b {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>, omega = 0.0 : f64} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<16x128xi8>, tensor<8x16xi8>) -> tensor<2x8xf32>
  return
}

// -----

func.func @lota_bt_shape(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>, %a: tensor<16x128xi8>, %b: tensor<8x12xi8>) {
  // expected-error @+1 {{'qaf.lota_linear' op B_T must have shape [8, 16], not 'tensor<8x12xi8>'}}
  %y = qaf.lota_linear %x, %c, %s, %z, %a, %b {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>, omega = 12.0 : f64} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<16x128xi8>, tensor<8x12xi8>) -> tensor<2x8xf32>
  return
}

// -----

func.func @lota_nf(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>, %a: tensor<16x128xi8>, %b: tensor<8x16xi8>) {
  // expected-error @+1 {{'qaf.lota_linear' op LoTA-QAF adapts integer codes; the nf scheme has none (use asym or sym)}}
  %y = qaf.lota_linear %x, %c, %s, %z, %a, %b {format = #qaf.qformat<bits = 4, group_size = 64, scheme = nf>, omega = 12.0 : f64} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<16x128xi8>, tensor<8x16xi8>) -> tensor<2x8xf32>
  return
}

// -----

func.func @lora_rank_mismatch(%x: tensor<2x128xf32>, %a: tensor<8x128xf32>, %b: tensor<8x4xf32>) {
  // expected-error @+1 {{'qaf.lora' op B must have shape [8, 8], not 'tensor<8x4xf32>'}}
  %y = qaf.lora %x, %a, %b {scale = 1.0 : f64} : (tensor<2x128xf32>, tensor<8x128xf32>, tensor<8x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @lora_k_mismatch(%x: tensor<2x128xf32>, %a: tensor<8x64xf32>, %b: tensor<8x8xf32>) {
  // expected-error @+1 {{'qaf.lora' op the input has 128 features, the weights take 64}}
  %y = qaf.lora %x, %a, %b {scale = 1.0 : f64} : (tensor<2x128xf32>, tensor<8x64xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @lora_rank_zero(%x: tensor<2x128xf32>, %a: tensor<0x128xf32>, %b: tensor<8x0xf32>) {
  // expected-error @+1 {{'qaf.lora' op adapter rank must be at least 1}}
  %y = qaf.lora %x, %a, %b {scale = 1.0 : f64} : (tensor<2x128xf32>, tensor<0x128xf32>, tensor<8x0xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qalora_pooled_shape(%x: tensor<2x128xf32>, %a: tensor<4x128xf32>, %b: tensor<8x4xf32>) {
  // expected-error @+1 {{'qaf.qalora' op the input has 128 features, the weights take 8192}}
  %y = qaf.qalora %x, %a, %b {group_size = 64 : i64, scale = 1.0 : f64} : (tensor<2x128xf32>, tensor<4x128xf32>, tensor<8x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qalora_group(%x: tensor<2x128xf32>, %a: tensor<4x2xf32>, %b: tensor<8x4xf32>) {
  // expected-error @+1 {{'qaf.qalora' op the input has 128 features, the weights take 96}}
  %y = qaf.qalora %x, %a, %b {group_size = 48 : i64, scale = 1.0 : f64} : (tensor<2x128xf32>, tensor<4x2xf32>, tensor<8x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qahira_repeat(%x: tensor<2x128xf32>, %m: tensor<3x2xf32>) {
  // expected-error @+1 {{'qaf.qahira' op repeat_out 3 does not divide the output dimension 8}}
  %y = qaf.qahira %x, %m {group_size = 64 : i64, repeat_out = 3 : i64, alpha = 1.0 : f64} : (tensor<2x128xf32>, tensor<3x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qahira_shape(%x: tensor<2x128xf32>, %m: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.qahira' op M must have shape [4, 2], not 'tensor<8x2xf32>'}}
  %y = qaf.qahira %x, %m {group_size = 64 : i64, repeat_out = 2 : i64, alpha = 1.0 : f64} : (tensor<2x128xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qbara_pool(%x: tensor<2x126xf32>, %a: tensor<6x42xf32>, %b: tensor<8x6xf32>) {
  // expected-error @+1 {{'qaf.qbara' op pool 3 must divide the input dimension 126 and the output dimension 8}}
  %y = qaf.qbara %x, %a, %b {pool = 3 : i64, scale = 1.0 : f64} : (tensor<2x126xf32>, tensor<6x42xf32>, tensor<8x6xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qbara_rank(%x: tensor<2x128xf32>, %a: tensor<5x64xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{'qaf.qbara' op A has 5 rows; Q-BaRA's rank is pool * r = a multiple of 2}}
  %y = qaf.qbara %x, %a, %b {pool = 2 : i64, scale = 1.0 : f64} : (tensor<2x128xf32>, tensor<5x64xf32>, tensor<4x5xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @l4q_weight_layout(%x: tensor<2x128xf32>, %w: tensor<8x128xf32>, %a: tensor<4x128xf32>, %b: tensor<8x4xf32>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.l4q_linear' op the input has 128 features, the weights take 8}}
  %y = qaf.l4q_linear %x, %w, %a, %b, %s, %s {bits = 4 : i64, group_size = 64 : i64, alpha = 1.0 : f64} : (tensor<2x128xf32>, tensor<8x128xf32>, tensor<4x128xf32>, tensor<8x4xf32>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @l4q_bits(%x: tensor<2x128xf32>, %w: tensor<128x8xf32>, %a: tensor<4x128xf32>, %b: tensor<8x4xf32>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.l4q_linear' op attribute 'bits' failed to satisfy constraint: 64-bit signless integer attribute whose value is one of {2, 3, 4, 8}}}
  %y = qaf.l4q_linear %x, %w, %a, %b, %s, %s {bits = 1 : i64, group_size = 64 : i64, alpha = 1.0 : f64} : (tensor<2x128xf32>, tensor<128x8xf32>, tensor<4x128xf32>, tensor<8x4xf32>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

// Unranked operands and results are refused by the op's type constraints
// (the shape checks read ranks; an unranked input used to crash them).

func.func @qlinear_unranked_input(%x: tensor<*xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.qlinear' op operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<*xf32>'}}
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<*xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qlinear_unranked_codes(%x: tensor<2x128xf32>, %c: tensor<*xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.qlinear' op operand #1 must be ranked tensor of 8-bit unsigned integer values, but got 'tensor<*xui8>'}}
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<2x128xf32>, tensor<*xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qlinear_unranked_result(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.qlinear' op result #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<*xf32>'}}
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @lota_unranked_a(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>, %a: tensor<*xi8>, %b: tensor<8x16xi8>) {
  // expected-error @+1 {{'qaf.lota_linear' op operand #4 must be ranked tensor of 8-bit signless integer values, but got 'tensor<*xi8>'}}
  %y = qaf.lota_linear %x, %c, %s, %z, %a, %b {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>, omega = 12.0 : f64} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<*xi8>, tensor<8x16xi8>) -> tensor<2x8xf32>
  return
}

// -----

func.func @l4q_unranked_weight(%x: tensor<2x128xf32>, %w: tensor<*xf32>, %a: tensor<4x128xf32>, %b: tensor<8x4xf32>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.l4q_linear' op operand #1 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<*xf32>'}}
  %y = qaf.l4q_linear %x, %w, %a, %b, %s, %s {bits = 4 : i64, group_size = 64 : i64, alpha = 1.0 : f64} : (tensor<2x128xf32>, tensor<*xf32>, tensor<4x128xf32>, tensor<8x4xf32>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @lora_unranked_input(%x: tensor<*xf32>, %a: tensor<8x128xf32>, %b: tensor<8x8xf32>) {
  // expected-error @+1 {{'qaf.lora' op operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<*xf32>'}}
  %y = qaf.lora %x, %a, %b {scale = 1.0 : f64} : (tensor<*xf32>, tensor<8x128xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qalora_unranked_a(%x: tensor<2x128xf32>, %a: tensor<*xf32>, %b: tensor<8x4xf32>) {
  // expected-error @+1 {{'qaf.qalora' op operand #1 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<*xf32>'}}
  %y = qaf.qalora %x, %a, %b {group_size = 64 : i64, scale = 1.0 : f64} : (tensor<2x128xf32>, tensor<*xf32>, tensor<8x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qahira_unranked_m(%x: tensor<2x128xf32>, %m: tensor<*xf32>) {
  // expected-error @+1 {{'qaf.qahira' op operand #1 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<*xf32>'}}
  %y = qaf.qahira %x, %m {group_size = 64 : i64, repeat_out = 2 : i64, alpha = 1.0 : f64} : (tensor<2x128xf32>, tensor<*xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qbara_unranked_result(%x: tensor<2x128xf32>, %a: tensor<4x64xf32>, %b: tensor<4x4xf32>) {
  // expected-error @+1 {{'qaf.qbara' op result #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<*xf32>'}}
  %y = qaf.qbara %x, %a, %b {pool = 2 : i64, scale = 1.0 : f64} : (tensor<2x128xf32>, tensor<4x64xf32>, tensor<4x4xf32>) -> tensor<*xf32>
  return
}

// -----

// Attribute ranges: bits, group sizes, pooling and repeat factors, the
// threshold and the scales.

func.func @l4q_bits_5(%x: tensor<2x128xf32>, %w: tensor<128x8xf32>, %a: tensor<4x128xf32>, %b: tensor<8x4xf32>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.l4q_linear' op attribute 'bits' failed to satisfy constraint: 64-bit signless integer attribute whose value is one of {2, 3, 4, 8}}}
  %y = qaf.l4q_linear %x, %w, %a, %b, %s, %s {bits = 64 : i64, group_size = 64 : i64, alpha = 1.0 : f64} : (tensor<2x128xf32>, tensor<128x8xf32>, tensor<4x128xf32>, tensor<8x4xf32>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @l4q_group_zero(%x: tensor<2x128xf32>, %w: tensor<128x8xf32>, %a: tensor<4x128xf32>, %b: tensor<8x4xf32>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.l4q_linear' op attribute 'group_size' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %y = qaf.l4q_linear %x, %w, %a, %b, %s, %s {bits = 4 : i64, group_size = 0 : i64, alpha = 1.0 : f64} : (tensor<2x128xf32>, tensor<128x8xf32>, tensor<4x128xf32>, tensor<8x4xf32>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @l4q_alpha_nan(%x: tensor<2x128xf32>, %w: tensor<128x8xf32>, %a: tensor<4x128xf32>, %b: tensor<8x4xf32>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.l4q_linear' op attribute 'alpha' failed to satisfy constraint: 64-bit float attribute whose value is finite}}
  %y = qaf.l4q_linear %x, %w, %a, %b, %s, %s {bits = 4 : i64, group_size = 64 : i64, alpha = 0x7FF8000000000000 : f64} : (tensor<2x128xf32>, tensor<128x8xf32>, tensor<4x128xf32>, tensor<8x4xf32>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @lota_omega_nan(%x: tensor<2x128xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>, %a: tensor<16x128xi8>, %b: tensor<8x16xi8>) {
  // expected-error @+1 {{'qaf.lota_linear' op attribute 'omega' failed to satisfy constraint: 64-bit float attribute whose value is positive and finite}}
  %y = qaf.lota_linear %x, %c, %s, %z, %a, %b {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>, omega = 0x7FF8000000000000 : f64} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<16x128xi8>, tensor<8x16xi8>) -> tensor<2x8xf32>
  return
}

// -----

func.func @lora_scale_inf(%x: tensor<2x128xf32>, %a: tensor<8x128xf32>, %b: tensor<8x8xf32>) {
  // expected-error @+1 {{'qaf.lora' op attribute 'scale' failed to satisfy constraint: 64-bit float attribute whose value is finite}}
  %y = qaf.lora %x, %a, %b {scale = 0x7FF0000000000000 : f64} : (tensor<2x128xf32>, tensor<8x128xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qalora_group_negative(%x: tensor<2x128xf32>, %a: tensor<4x2xf32>, %b: tensor<8x4xf32>) {
  // expected-error @+1 {{'qaf.qalora' op attribute 'group_size' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %y = qaf.qalora %x, %a, %b {group_size = -64 : i64, scale = 1.0 : f64} : (tensor<2x128xf32>, tensor<4x2xf32>, tensor<8x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qalora_scale_nan(%x: tensor<2x128xf32>, %a: tensor<4x2xf32>, %b: tensor<8x4xf32>) {
  // expected-error @+1 {{'qaf.qalora' op attribute 'scale' failed to satisfy constraint: 64-bit float attribute whose value is finite}}
  %y = qaf.qalora %x, %a, %b {group_size = 64 : i64, scale = 0x7FF8000000000000 : f64} : (tensor<2x128xf32>, tensor<4x2xf32>, tensor<8x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qahira_repeat_negative(%x: tensor<2x128xf32>, %m: tensor<4x2xf32>) {
  // expected-error @+1 {{'qaf.qahira' op attribute 'repeat_out' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %y = qaf.qahira %x, %m {group_size = 64 : i64, repeat_out = -2 : i64, alpha = 1.0 : f64} : (tensor<2x128xf32>, tensor<4x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qahira_group_zero(%x: tensor<2x128xf32>, %m: tensor<4x2xf32>) {
  // expected-error @+1 {{'qaf.qahira' op attribute 'group_size' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %y = qaf.qahira %x, %m {group_size = 0 : i64, repeat_out = 2 : i64, alpha = 1.0 : f64} : (tensor<2x128xf32>, tensor<4x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qahira_alpha_inf(%x: tensor<2x128xf32>, %m: tensor<4x2xf32>) {
  // expected-error @+1 {{'qaf.qahira' op attribute 'alpha' failed to satisfy constraint: 64-bit float attribute whose value is finite}}
  %y = qaf.qahira %x, %m {group_size = 64 : i64, repeat_out = 2 : i64, alpha = 0xFFF0000000000000 : f64} : (tensor<2x128xf32>, tensor<4x2xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qbara_pool_negative(%x: tensor<2x128xf32>, %a: tensor<4x64xf32>, %b: tensor<4x4xf32>) {
  // expected-error @+1 {{'qaf.qbara' op attribute 'pool' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %y = qaf.qbara %x, %a, %b {pool = -2 : i64, scale = 1.0 : f64} : (tensor<2x128xf32>, tensor<4x64xf32>, tensor<4x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qbara_scale_inf(%x: tensor<2x128xf32>, %a: tensor<4x64xf32>, %b: tensor<4x4xf32>) {
  // expected-error @+1 {{'qaf.qbara' op attribute 'scale' failed to satisfy constraint: 64-bit float attribute whose value is finite}}
  %y = qaf.qbara %x, %a, %b {pool = 2 : i64, scale = 0x7FF0000000000000 : f64} : (tensor<2x128xf32>, tensor<4x64xf32>, tensor<4x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @qlinear_transposed_wrong_result(%g: tensor<2x8xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.qlinear_transposed' op the result has 96 features, the codes hold 128}}
  %x = qaf.qlinear_transposed %g, %c, %s zero_points(%z) {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<2x8xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x96xf32>
  return
}

// -----

func.func @qlinear_transposed_wrong_input(%g: tensor<2x9xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.qlinear_transposed' op the input has 9 features, the weights take 8}}
  %x = qaf.qlinear_transposed %g, %c, %s zero_points(%z) {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<2x9xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x128xf32>
  return
}

// -----

func.func @qlinear_transposed_nf_moves(%g: tensor<2x8xf32>, %c: tensor<8x64xui8>, %s: tensor<8x2xf32>, %m: tensor<8x128xi8>) {
  // expected-error @+1 {{'qaf.qlinear_transposed' op moves shift integer codes; the nf scheme has none}}
  %x = qaf.qlinear_transposed %g, %c, %s moves(%m) {format = #qaf.qformat<bits = 4, group_size = 64, scheme = nf>} : (tensor<2x8xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x128xi8>) -> tensor<2x128xf32>
  return
}

// -----

func.func @lota_update_wrong_moves(%c: tensor<8x64xui8>, %z: tensor<8x2xf32>, %a: tensor<4x128xi8>, %b: tensor<8x4xi8>) {
  // expected-error @+1 {{'qaf.lota_update' op moves must have shape [8, 128], not 'tensor<8x64xi8>'}}
  %m:2 = qaf.lota_update %c, %z, %a, %b {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>, omega = 3.0 : f64} : (tensor<8x64xui8>, tensor<8x2xf32>, tensor<4x128xi8>, tensor<8x4xi8>) -> (tensor<8x64xi8>, tensor<8x2xf32>)
  return
}

// -----

func.func @lota_update_omega_too_large(%c: tensor<8x64xui8>, %z: tensor<8x2xf32>, %a: tensor<4x128xi8>, %b: tensor<8x4xi8>) {
  // expected-error @+1 {{'qaf.lota_update' op threshold omega must be in (0, rank = 4), not 4}}
  %m:2 = qaf.lota_update %c, %z, %a, %b {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>, omega = 4.0 : f64} : (tensor<8x64xui8>, tensor<8x2xf32>, tensor<4x128xi8>, tensor<8x4xi8>) -> (tensor<8x128xi8>, tensor<8x2xf32>)
  return
}

// -----

func.func @l4q_quantize_wrong_result(%w: tensor<128x8xf32>, %a: tensor<4x128xf32>, %b: tensor<8x4xf32>, %s: tensor<8x2xf32>) {
  // expected-error @+1 {{'qaf.l4q_quantize' op result must have shape [8, 128], not 'tensor<128x8xf32>'}}
  %r:2 = qaf.l4q_quantize %w, %a, %b, %s, %s {bits = 4 : i64, group_size = 64 : i64, alpha = 1.0 : f64} : (tensor<128x8xf32>, tensor<4x128xf32>, tensor<8x4xf32>, tensor<8x2xf32>, tensor<8x2xf32>) -> (tensor<8x128xf32>, tensor<128x8xf32>)
  return
}

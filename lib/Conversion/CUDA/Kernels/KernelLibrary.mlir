// The CUDA kernels of qaf-cuda-kernels (CUDAKernels.cpp embeds this file).
//
// Each `gpu.func` is a kernel template, each `func.func` a helper that the
// pass inlines into it. A template calls `@mma_tile`, which the pass
// retargets to `@mma_tile_tf32` or `@mma_tile_bf16` (its precision option)
// before inlining. Loops marked `qaf.unroll` have constant bounds and are
// fully unrolled, so the `private` accumulators are indexed by constants
// and live in registers.
//
// Tensor-core tiling: a block of 128 threads (4 warps as 2 x 2) computes a
// 64 x 64 tile of C, each warp 32 x 32 as 2 x 4 mma tiles of 16 x 8, over
// steps of 16 along the reduction staged in shared memory: As [64][16 + 4]
// holds A[m0 + r, k0 + c], Bs [16][64 + 8] holds B[k0 + r, n0 + c]. The
// padding makes the fragment loads free of bank conflicts. Out-of-range
// elements are staged as zeros (indices clamped into range, values
// masked), which is all ragged M, N and K need.
//
// Operands are memrefs with dynamic strided layouts (kernel arguments are
// memref descriptors): the host passes any strided view of an f32 matrix;
// transposed operands are views with swapped strides, 2-D operands get a
// unit batch. Codes and moves have contiguous rows (qaf.kernel.qlinear's
// verifier), which the decode kernel's vector loads need.

!mat3 = memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
!mat2 = memref<?x?xf32, strided<[?, ?], offset: ?>>
!mat4 = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!partials = memref<4x130xf32, #gpu.address_space<workgroup>>
!lanes = memref<4xf32, #gpu.address_space<private>>
!bytes2 = memref<?x?xi8, strided<[?, 1], offset: ?>>
!tileA = memref<64x20xf32, #gpu.address_space<workgroup>>
!tileB = memref<16x72xf32, #gpu.address_space<workgroup>>
!tile = memref<?x?xf32, strided<[?, 1]>, #gpu.address_space<workgroup>>
!acc = memref<32xf32, #gpu.address_space<private>>
!rows = memref<16xf32, #gpu.address_space<private>>
!f32x4 = !llvm.struct<(f32, f32, f32, f32)>

gpu.module @qaf_cuda_kernel_library {

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

// C[b] += A[b] · B[b] for A [batch, M, K], B [batch, K, N], C [batch, M, N].
// Grid (ceil(N / 64), ceil(M / 64), batch), blocks of 128 threads.
gpu.func @qaf_matmul(%a: !mat3, %b: !mat3, %c: !mat3)
    workgroup(%as: !tileA, %bs: !tileB) private(%acc: !acc) kernel {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %k = memref.dim %a, %c2 : !mat3
  %batch = gpu.block_id z
  %m0 = func.call @block_offset_y() : () -> index
  %n0 = func.call @block_offset_x() : () -> index
  %t = gpu.thread_id x
  %at = memref.cast %as : !tileA to !tile
  %bt = memref.cast %bs : !tileB to !tile
  func.call @zero_acc(%acc) : (!acc) -> ()
  scf.for %k0 = %c0 to %k step %c16 {
    func.call @load_tile(%a, %at, %batch, %m0, %k0, %c64, %c16, %t)
      : (!mat3, !tile, index, index, index, index, index, index) -> ()
    func.call @load_tile(%b, %bt, %batch, %k0, %n0, %c16, %c64, %t)
      : (!mat3, !tile, index, index, index, index, index, index) -> ()
    gpu.barrier
    func.call @mma_tile(%at, %bt, %acc, %t) : (!tile, !tile, !acc, index) -> ()
    gpu.barrier
  }
  func.call @accumulate_tile(%c, %acc, %batch, %m0, %n0, %t)
    : (!mat3, !acc, index, index, index, index) -> ()
  gpu.return
}

// Y += X · Wᵀ, W = dequant(codes) [N, K], for X [1, M, K], Y [1, M, N]:
// codes [N, K·bits/8] (a bit stream per row, first code in the lowest
// bits), scales and zero points [N, K / group], moves [N, K] (read only
// when has_moves is 1). Grid (ceil(N / 64), ceil(M / 64)), 128 threads.
gpu.func @qaf_qlinear(%x: !mat3, %scales: !mat2, %zeros: !mat2,
                      %codes: !bytes2, %moves: !bytes2, %y: !mat3,
                      %bits: index, %group: index, %has_moves: index)
    workgroup(%as: !tileA, %bs: !tileB) private(%acc: !acc) kernel {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %k = memref.dim %x, %c2 : !mat3
  %m0 = func.call @block_offset_y() : () -> index
  %n0 = func.call @block_offset_x() : () -> index
  %t = gpu.thread_id x
  %at = memref.cast %as : !tileA to !tile
  %bt = memref.cast %bs : !tileB to !tile
  // Thread t dequantizes the codes [8·(t mod 2), +8) of the tile's row
  // t / 2 (an output feature) into a column of Bs.
  %row = arith.divui %t, %c2 : index
  %half = arith.remui %t, %c2 : index
  %col = arith.muli %half, %c8 : index
  %n = arith.addi %n0, %row : index
  func.call @zero_acc(%acc) : (!acc) -> ()
  scf.for %k0 = %c0 to %k step %c16 {
    func.call @load_tile(%x, %at, %c0, %m0, %k0, %c64, %c16, %t)
      : (!mat3, !tile, index, index, index, index, index, index) -> ()
    %kt = arith.addi %k0, %col : index
    %w = func.call @dequantize8(%codes, %scales, %zeros, %moves, %has_moves,
                                %bits, %group, %n, %kt)
      : (!bytes2, !mat2, !mat2, !bytes2, index, index, index, index, index)
        -> vector<8xf32>
    scf.for %i = %c0 to %c8 step %c1 {
      %wi = vector.extract %w[%i] : f32 from vector<8xf32>
      %r = arith.addi %col, %i : index
      memref.store %wi, %bt[%r, %row] : !tile
    } {qaf.unroll}
    gpu.barrier
    func.call @mma_tile(%at, %bt, %acc, %t) : (!tile, !tile, !acc, index) -> ()
    gpu.barrier
  }
  func.call @accumulate_tile(%y, %acc, %c0, %m0, %n0, %t)
    : (!mat3, !acc, index, index, index, index) -> ()
  gpu.return
}

// Y += X · W (transpose_weight: a layer's input gradient), X [1, M, N],
// Y [1, M, K], W as in @qaf_qlinear. The reduction runs over W's rows.
// Grid (ceil(K / 64), ceil(M / 64)), 128 threads.
gpu.func @qaf_qlinear_transposed(%x: !mat3, %scales: !mat2, %zeros: !mat2,
                                 %codes: !bytes2, %moves: !bytes2, %y: !mat3,
                                 %bits: index, %group: index,
                                 %has_moves: index)
    workgroup(%as: !tileA, %bs: !tileB) private(%acc: !acc) kernel {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %n = memref.dim %x, %c2 : !mat3
  %m0 = func.call @block_offset_y() : () -> index
  %k0 = func.call @block_offset_x() : () -> index
  %t = gpu.thread_id x
  %at = memref.cast %as : !tileA to !tile
  %bt = memref.cast %bs : !tileB to !tile
  // Thread t dequantizes the codes [8·(t mod 8), +8) of the tile's row
  // t / 8 (a reduction step) into a row of Bs.
  %row = arith.divui %t, %c8 : index
  %eighth = arith.remui %t, %c8 : index
  %col = arith.muli %eighth, %c8 : index
  %kt = arith.addi %k0, %col : index
  func.call @zero_acc(%acc) : (!acc) -> ()
  scf.for %n0 = %c0 to %n step %c16 {
    func.call @load_tile(%x, %at, %c0, %m0, %n0, %c64, %c16, %t)
      : (!mat3, !tile, index, index, index, index, index, index) -> ()
    %nt = arith.addi %n0, %row : index
    %w = func.call @dequantize8(%codes, %scales, %zeros, %moves, %has_moves,
                                %bits, %group, %nt, %kt)
      : (!bytes2, !mat2, !mat2, !bytes2, index, index, index, index, index)
        -> vector<8xf32>
    scf.for %i = %c0 to %c8 step %c1 {
      %wi = vector.extract %w[%i] : f32 from vector<8xf32>
      %c = arith.addi %col, %i : index
      memref.store %wi, %bt[%row, %c] : !tile
    } {qaf.unroll}
    gpu.barrier
    func.call @mma_tile(%at, %bt, %acc, %t) : (!tile, !tile, !acc, index) -> ()
    gpu.barrier
  }
  func.call @accumulate_tile(%y, %acc, %c0, %m0, %k0, %t)
    : (!mat3, !acc, index, index, index, index) -> ()
  gpu.return
}

// Decode (M < 16): Y += X · Wᵀ as @qaf_qlinear, one warp per output
// feature n, streaming its packed row once: lane l dequantizes the units
// of 32 codes l, l + 32, ... (@dequantize32: one 128-bit load for 4-bit
// codes) and accumulates them against every row of X; a butterfly of
// shuffles sums the lanes. Grid (ceil(N / 4)), 128 threads.
gpu.func @qaf_qlinear_decode(%x: !mat3, %scales: !mat2, %zeros: !mat2,
                             %codes: !bytes2, %moves: !bytes2, %y: !mat3,
                             %bits: index, %group: index, %has_moves: index)
    private(%acc: !rows) kernel {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c1024 = arith.constant 1024 : index
  %zero = arith.constant 0.0 : f32
  %t = gpu.thread_id x
  %warp = arith.divui %t, %c32 : index
  %lane = arith.remui %t, %c32 : index
  %bx = gpu.block_id x
  %first = arith.muli %bx, %c4 : index
  %n = arith.addi %first, %warp : index
  %rows = memref.dim %codes, %c0 : !bytes2
  %in_range = arith.cmpi ult, %n, %rows : index
  // A whole warp takes this branch or not: the shuffles see all lanes.
  scf.if %in_range {
    %m = memref.dim %x, %c1 : !mat3
    %k = func.call @code_count(%codes, %bits) : (!bytes2, index) -> index
    %last = arith.subi %k, %c1 : index
    %fast = func.call @packed_row_is_fast(%codes, %bits, %group, %has_moves, %n)
      : (!bytes2, index, index, index, index) -> i1
    scf.for %r = %c0 to %c16 step %c1 {
      memref.store %zero, %acc[%r] : !rows
    } {qaf.unroll}
    %start = arith.muli %lane, %c32 : index
    %units = arith.ceildivui %k, %c32 : index
    %end = arith.muli %units, %c32 : index
    scf.for %k0 = %start to %end step %c1024 {
      %w = func.call @dequantize32(%codes, %scales, %zeros, %moves, %has_moves,
                                   %bits, %group, %n, %k0, %fast)
        : (!bytes2, !mat2, !mat2, !bytes2, index, index, index, index, index, i1)
          -> vector<32xf32>
      scf.for %r = %c0 to %c16 step %c1 {
        %live = arith.cmpi ult, %r, %m : index
        scf.if %live {
          %sum = scf.for %i = %c0 to %c32 step %c1 iter_args(%s = %zero) -> f32 {
            %ki = arith.addi %k0, %i : index
            %kc = arith.minui %ki, %last : index
            %xv = memref.load %x[%c0, %r, %kc] : !mat3
            %wi = vector.extract %w[%i] : f32 from vector<32xf32>
            // Codes past K dequantize to 0; x there is clamped, not 0.
            %valid = arith.cmpi ult, %ki, %k : index
            %p = arith.mulf %xv, %wi : f32
            %pv = arith.select %valid, %p, %zero : f32
            %s2 = arith.addf %s, %pv : f32
            scf.yield %s2 : f32
          } {qaf.unroll}
          %old = memref.load %acc[%r] : !rows
          %new = arith.addf %old, %sum : f32
          memref.store %new, %acc[%r] : !rows
        }
      } {qaf.unroll}
    }
    %is_first = arith.cmpi eq, %lane, %c0 : index
    scf.for %r = %c0 to %c16 step %c1 {
      %live = arith.cmpi ult, %r, %m : index
      scf.if %live {
        %v = memref.load %acc[%r] : !rows
        %total = func.call @warp_sum(%v) : (f32) -> f32
        scf.if %is_first {
          %old = memref.load %y[%c0, %r, %n] : !mat3
          %new = arith.addf %old, %total : f32
          memref.store %new, %y[%c0, %r, %n] : !mat3
        }
      }
    } {qaf.unroll}
  }
  gpu.return
}

// Fused attention: o[b, h, s, :] = Σ_t softmax_t(x[t]) · v[b, h / g, t, :]
// with x[t] = scale · q[b, h, s, :] · k[b, h / g, t, :] + bias[b, h, s, t]
// (bias read when has_bias is 1), for q [B, H, S, D], k [B, H / g, T, D],
// v [B, H / g, T, E] and o [B, H, S, E], D and E at most 128 (each lane
// holds 4 of a row's elements); broadcast batch and bias dims are views
// with stride 0. Grid (S, H, B), 128 threads: each warp walks every 4th
// key with an online softmax (a running maximum m, sum l and weighted sum
// of values, rescaled by exp(m_old - m_new) when the maximum grows), so no
// score is stored; the 4 warps' states are then merged through shared
// memory, one output element per thread. A row whose scores are all -inf
// gives 0 / 0 = NaN, as the unfused softmax does, or 0 when zero_nan_rows
// is 1 (every row whose largest score is not finite, the rows whose
// softmax is NaN).
gpu.func @qaf_attention(%q: !mat4, %k: !mat4, %v: !mat4, %bias: !mat4,
                        %o: !mat4, %scale: f32, %has_bias: index,
                        %zero_nan_rows: index)
    workgroup(%partial: !partials) private(%qr: !lanes, %acc: !lanes) kernel {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %minus_inf = arith.constant 0xFF800000 : f32
  %true = arith.constant true
  %t = gpu.thread_id x
  %warp = arith.divui %t, %c32 : index
  %lane = arith.remui %t, %c32 : index
  %s = gpu.block_id x
  %h = gpu.block_id y
  %b = gpu.block_id z
  %heads = memref.dim %q, %c1 : !mat4
  %d = memref.dim %q, %c3 : !mat4
  %kv_heads = memref.dim %k, %c1 : !mat4
  %keys = memref.dim %k, %c2 : !mat4
  %e = memref.dim %v, %c3 : !mat4
  %group = arith.divui %heads, %kv_heads : index
  %kh = arith.divui %h, %group : index
  %with_bias = arith.cmpi ne, %has_bias, %c0 : index
  // The lane's elements of the query row (columns lane + 32 i), 0 past D.
  scf.for %i = %c0 to %c4 step %c1 {
    %col = func.call @lane_column(%lane, %i) : (index, index) -> index
    %in = arith.cmpi ult, %col, %d : index
    %at = func.call @clamp_column(%col, %d) : (index, index) -> index
    %x = memref.load %q[%b, %h, %s, %at] : !mat4
    %xv = arith.select %in, %x, %zero : f32
    memref.store %xv, %qr[%i] : !lanes
    memref.store %zero, %acc[%i] : !lanes
  } {qaf.unroll}
  %state:2 = scf.for %pos = %warp to %keys step %c4
      iter_args(%m = %minus_inf, %l = %zero) -> (f32, f32) {
    %lane_dot = scf.for %i = %c0 to %c4 step %c1
        iter_args(%sum = %zero) -> f32 {
      %col = func.call @lane_column(%lane, %i) : (index, index) -> index
      %in = arith.cmpi ult, %col, %d : index
      %at = func.call @clamp_column(%col, %d) : (index, index) -> index
      %kv = memref.load %k[%b, %kh, %pos, %at] : !mat4
      %qv = memref.load %qr[%i] : !lanes
      %product = arith.mulf %qv, %kv : f32
      %term = arith.select %in, %product, %zero : f32
      %next = arith.addf %sum, %term : f32
      scf.yield %next : f32
    } {qaf.unroll}
    // Every lane gets the same sum, so the warp's lanes agree on m and l.
    %dot = func.call @warp_sum(%lane_dot) : (f32) -> f32
    %scaled = arith.mulf %dot, %scale : f32
    %x = scf.if %with_bias -> f32 {
      %bv = memref.load %bias[%b, %h, %s, %pos] : !mat4
      %biased = arith.addf %scaled, %bv : f32
      scf.yield %biased : f32
    } else {
      scf.yield %scaled : f32
    }
    %m_new = arith.maximumf %m, %x : f32
    // Nothing but -inf so far: nothing to rescale, nothing to add.
    %none = arith.cmpf oeq, %m_new, %minus_inf : f32
    %m_shift = arith.subf %m, %m_new : f32
    %rescale_exp = math.exp %m_shift : f32
    %rescale = arith.select %none, %one, %rescale_exp : f32
    %x_shift = arith.subf %x, %m_new : f32
    %weight_exp = math.exp %x_shift : f32
    %weight = arith.select %none, %zero, %weight_exp : f32
    %l_old = arith.mulf %l, %rescale : f32
    %l_new = arith.addf %l_old, %weight : f32
    scf.for %i = %c0 to %c4 step %c1 {
      %col = func.call @lane_column(%lane, %i) : (index, index) -> index
      %at = func.call @clamp_column(%col, %e) : (index, index) -> index
      %vv = memref.load %v[%b, %kh, %pos, %at] : !mat4
      %a = memref.load %acc[%i] : !lanes
      %kept = arith.mulf %a, %rescale : f32
      %added = arith.mulf %weight, %vv : f32
      %a_new = arith.addf %kept, %added : f32
      memref.store %a_new, %acc[%i] : !lanes
    } {qaf.unroll}
    scf.yield %m_new, %l_new : f32, f32
  }
  // Each warp's state: partial[w] = [m, l, weighted sums of the E columns].
  %is_first = arith.cmpi eq, %lane, %c0 : index
  scf.if %is_first {
    memref.store %state#0, %partial[%warp, %c0] : !partials
    memref.store %state#1, %partial[%warp, %c1] : !partials
  }
  scf.for %i = %c0 to %c4 step %c1 {
    %col = func.call @lane_column(%lane, %i) : (index, index) -> index
    %in = arith.cmpi ult, %col, %e : index
    scf.if %in {
      %a = memref.load %acc[%i] : !lanes
      %slot = arith.addi %col, %c2 : index
      memref.store %a, %partial[%warp, %slot] : !partials
    }
  } {qaf.unroll}
  gpu.barrier
  %writes = arith.cmpi ult, %t, %e : index
  scf.if %writes {
    %m_all = scf.for %w = %c0 to %c4 step %c1
        iter_args(%top = %minus_inf) -> f32 {
      %mw = memref.load %partial[%w, %c0] : !partials
      %higher = arith.maximumf %top, %mw : f32
      scf.yield %higher : f32
    } {qaf.unroll}
    %slot = arith.addi %t, %c2 : index
    %merged:2 = scf.for %w = %c0 to %c4 step %c1
        iter_args(%l_sum = %zero, %o_sum = %zero) -> (f32, f32) {
      %mw = memref.load %partial[%w, %c0] : !partials
      %lw = memref.load %partial[%w, %c1] : !partials
      %aw = memref.load %partial[%w, %slot] : !partials
      // A warp that saw no key (or only -inf) adds nothing.
      %empty = arith.cmpf oeq, %mw, %minus_inf : f32
      %shift = arith.subf %mw, %m_all : f32
      %factor_exp = math.exp %shift : f32
      %factor = arith.select %empty, %zero, %factor_exp : f32
      %l_term = arith.mulf %factor, %lw : f32
      %o_term = arith.mulf %factor, %aw : f32
      %l_next = arith.addf %l_sum, %l_term : f32
      %o_next = arith.addf %o_sum, %o_term : f32
      scf.yield %l_next, %o_next : f32, f32
    } {qaf.unroll}
    %quotient = arith.divf %merged#1, %merged#0 : f32
    %plus_inf = arith.constant 0x7F800000 : f32
    %magnitude = math.absf %m_all : f32
    %finite = arith.cmpf olt, %magnitude, %plus_inf : f32
    %zeroes = arith.cmpi ne, %zero_nan_rows, %c0 : index
    %not_finite = arith.xori %finite, %true : i1
    %zeroed = arith.andi %zeroes, %not_finite : i1
    %out = arith.select %zeroed, %zero, %quotient : f32
    memref.store %out, %o[%b, %h, %s, %t] : !mat4
  }
  gpu.return
}

//===----------------------------------------------------------------------===//
// Helpers (inlined)
//===----------------------------------------------------------------------===//

// Column lane + 32 i of a row a warp holds 4 elements per lane of.
func.func private @lane_column(%lane: index, %i: index) -> index {
  %c32 = arith.constant 32 : index
  %offset = arith.muli %i, %c32 : index
  %col = arith.addi %lane, %offset : index
  return %col : index
}

// A column clamped into a row of `size` (reads past it are masked after).
func.func private @clamp_column(%col: index, %size: index) -> index {
  %c1 = arith.constant 1 : index
  %last = arith.subi %size, %c1 : index
  %at = arith.minui %col, %last : index
  return %at : index
}

// The precision's reduction step: @mma_tile_tf32 or @mma_tile_bf16, which
// the pass substitutes.
func.func private @mma_tile(!tile, !tile, !acc, index)

func.func private @block_offset_x() -> index {
  %c64 = arith.constant 64 : index
  %b = gpu.block_id x
  %o = arith.muli %b, %c64 : index
  return %o : index
}

func.func private @block_offset_y() -> index {
  %c64 = arith.constant 64 : index
  %b = gpu.block_id y
  %o = arith.muli %b, %c64 : index
  return %o : index
}

func.func private @zero_acc(%acc: !acc) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c32 step %c1 {
    memref.store %zero, %acc[%i] : !acc
  } {qaf.unroll}
  return
}

// dst[r, c] = src[batch, row0 + r, col0 + c] for r < rows, c < cols
// (rows · cols = 1024, 8 per thread), 0 outside src. Consecutive threads
// take consecutive elements along src's unit-stride dimension (columns
// unless src's column stride is not 1), so global loads coalesce.
func.func private @load_tile(%src: !mat3, %dst: !tile, %batch: index,
                             %row0: index, %col0: index, %rows: index,
                             %cols: index, %t: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  %base, %offset, %sizes:3, %strides:3 = memref.extract_strided_metadata %src
    : !mat3 -> memref<f32>, index, index, index, index, index, index, index
  %col_fast = arith.cmpi eq, %strides#2, %c1 : index
  %last_row = arith.subi %sizes#1, %c1 : index
  %last_col = arith.subi %sizes#2, %c1 : index
  scf.for %i = %c0 to %c8 step %c1 {
    %step = arith.muli %i, %c128 : index
    %idx = arith.addi %t, %step : index
    %r_cf = arith.divui %idx, %cols : index
    %c_cf = arith.remui %idx, %cols : index
    %r_rf = arith.remui %idx, %rows : index
    %c_rf = arith.divui %idx, %rows : index
    %r = arith.select %col_fast, %r_cf, %r_rf : index
    %c = arith.select %col_fast, %c_cf, %c_rf : index
    %gr = arith.addi %row0, %r : index
    %gc = arith.addi %col0, %c : index
    %row_ok = arith.cmpi ult, %gr, %sizes#1 : index
    %col_ok = arith.cmpi ult, %gc, %sizes#2 : index
    %ok = arith.andi %row_ok, %col_ok : i1
    %grc = arith.minui %gr, %last_row : index
    %gcc = arith.minui %gc, %last_col : index
    %v = memref.load %src[%batch, %grc, %gcc] : !mat3
    %vm = arith.select %ok, %v, %zero : f32
    memref.store %vm, %dst[%r, %c] : !tile
  } {qaf.unroll}
  return
}

// The warp's place in the block tile and the lane's in the mma fragments
// (PTX ISA, "Matrix Fragments for mma.m16n8k8/k16"): group = lane / 4,
// thread-in-group = lane mod 4; the warp's 32 x 32 tile starts at
// (32·(warp / 2), 32·(warp mod 2)).
func.func private @fragment_coordinates(%t: index)
    -> (index, index, index, index) {
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c32 = arith.constant 32 : index
  %warp = arith.divui %t, %c32 : index
  %lane = arith.remui %t, %c32 : index
  %group = arith.divui %lane, %c4 : index
  %tig = arith.remui %lane, %c4 : index
  %wy = arith.divui %warp, %c2 : index
  %wx = arith.remui %warp, %c2 : index
  %wm = arith.muli %wy, %c32 : index
  %wn = arith.muli %wx, %c32 : index
  return %wm, %wn, %group, %tig : index, index, index, index
}

// C[batch, m0 + ·, n0 + ·] += the block tile's accumulators, where they
// fall inside C. Accumulator 4·(4·i + j) + e holds the element e of mma
// tile (i, j): row 16·i + group + 8·(e / 2), column 8·j + 2·tig + e mod 2.
func.func private @accumulate_tile(%c: !mat3, %acc: !acc, %batch: index,
                                   %m0: index, %n0: index, %t: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %wm, %wn, %group, %tig = func.call @fragment_coordinates(%t)
    : (index) -> (index, index, index, index)
  %m = memref.dim %c, %c1 : !mat3
  %n = memref.dim %c, %c2 : !mat3
  %tig2 = arith.muli %tig, %c2 : index
  %row_base0 = arith.addi %m0, %wm : index
  %row_base = arith.addi %row_base0, %group : index
  %col_base0 = arith.addi %n0, %wn : index
  %col_base = arith.addi %col_base0, %tig2 : index
  scf.for %i = %c0 to %c2 step %c1 {
    scf.for %j = %c0 to %c4 step %c1 {
      scf.for %e = %c0 to %c4 step %c1 {
        %half = arith.divui %e, %c2 : index
        %odd = arith.remui %e, %c2 : index
        %ri = arith.muli %i, %c16 : index
        %rh = arith.muli %half, %c8 : index
        %r0 = arith.addi %row_base, %ri : index
        %row = arith.addi %r0, %rh : index
        %cj = arith.muli %j, %c8 : index
        %c0j = arith.addi %col_base, %cj : index
        %col = arith.addi %c0j, %odd : index
        %row_ok = arith.cmpi ult, %row, %m : index
        %col_ok = arith.cmpi ult, %col, %n : index
        %ok = arith.andi %row_ok, %col_ok : i1
        scf.if %ok {
          %i4 = arith.muli %i, %c4 : index
          %tile = arith.addi %i4, %j : index
          %t4 = arith.muli %tile, %c4 : index
          %slot = arith.addi %t4, %e : index
          %v = memref.load %acc[%slot] : !acc
          %old = memref.load %c[%batch, %row, %col] : !mat3
          %new = arith.addf %old, %v : f32
          memref.store %new, %c[%batch, %row, %col] : !mat3
        }
      } {qaf.unroll}
    } {qaf.unroll}
  } {qaf.unroll}
  return
}

// The accumulators of mma tile (i, j): acc[4·(4·i + j) + e], e < 4.
func.func private @load_accumulators(%acc: !acc, %i: index, %j: index)
    -> (f32, f32, f32, f32) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %i4 = arith.muli %i, %c4 : index
  %tile = arith.addi %i4, %j : index
  %s0 = arith.muli %tile, %c4 : index
  %s1 = arith.addi %s0, %c1 : index
  %s2 = arith.addi %s0, %c2 : index
  %s3 = arith.addi %s0, %c3 : index
  %v0 = memref.load %acc[%s0] : !acc
  %v1 = memref.load %acc[%s1] : !acc
  %v2 = memref.load %acc[%s2] : !acc
  %v3 = memref.load %acc[%s3] : !acc
  return %v0, %v1, %v2, %v3 : f32, f32, f32, f32
}

func.func private @store_accumulators(%acc: !acc, %i: index, %j: index,
                                      %d: !f32x4) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %i4 = arith.muli %i, %c4 : index
  %tile = arith.addi %i4, %j : index
  %s0 = arith.muli %tile, %c4 : index
  %s1 = arith.addi %s0, %c1 : index
  %s2 = arith.addi %s0, %c2 : index
  %s3 = arith.addi %s0, %c3 : index
  %v0 = llvm.extractvalue %d[0] : !f32x4
  %v1 = llvm.extractvalue %d[1] : !f32x4
  %v2 = llvm.extractvalue %d[2] : !f32x4
  %v3 = llvm.extractvalue %d[3] : !f32x4
  memref.store %v0, %acc[%s0] : !acc
  memref.store %v1, %acc[%s1] : !acc
  memref.store %v2, %acc[%s2] : !acc
  memref.store %v3, %acc[%s3] : !acc
  return
}

// A tf32 operand: the f32 rounded to nearest (ties away), as cuBLAS does,
// rather than truncated by the tensor core.
func.func private @tf32(%tile: !tile, %r: index, %c: index) -> i32 {
  %v = memref.load %tile[%r, %c] : !tile
  %t = nvvm.convert.float.to.tf32 %v {rnd = #nvvm.fp_rnd_mode<rna>}
  return %t : i32
}

// Two bf16 operands in one register, the first in the low half.
func.func private @bf16x2(%lo: f32, %hi: f32) -> i32 {
  %c16 = arith.constant 16 : i32
  %l = arith.truncf %lo : f32 to bf16
  %h = arith.truncf %hi : f32 to bf16
  %lb = arith.bitcast %l : bf16 to i16
  %hb = arith.bitcast %h : bf16 to i16
  %l32 = arith.extui %lb : i16 to i32
  %h32 = arith.extui %hb : i16 to i32
  %hs = arith.shli %h32, %c16 : i32
  %p = arith.ori %hs, %l32 : i32
  return %p : i32
}

// One step of 16 along the reduction with m16n8k8 tf32 mma (two per mma
// tile). Fragments (PTX ISA): A a0 (g, t), a1 (g + 8, t), a2 (g, t + 4),
// a3 (g + 8, t + 4); B b0 (t, g), b1 (t + 4, g); g the group, t the
// thread in the group.
func.func private @mma_tile_tf32(%as: !tile, %bs: !tile, %acc: !acc,
                                 %t: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %wm, %wn, %group, %tig = func.call @fragment_coordinates(%t)
    : (index) -> (index, index, index, index)
  scf.for %ks = %c0 to %c2 step %c1 {
    %kk = arith.muli %ks, %c8 : index
    %ka = arith.addi %kk, %tig : index
    %kb = arith.addi %ka, %c4 : index
    scf.for %i = %c0 to %c2 step %c1 {
      %ri = arith.muli %i, %c16 : index
      %r0 = arith.addi %wm, %ri : index
      %r = arith.addi %r0, %group : index
      %r8 = arith.addi %r, %c8 : index
      %a0 = func.call @tf32(%as, %r, %ka) : (!tile, index, index) -> i32
      %a1 = func.call @tf32(%as, %r8, %ka) : (!tile, index, index) -> i32
      %a2 = func.call @tf32(%as, %r, %kb) : (!tile, index, index) -> i32
      %a3 = func.call @tf32(%as, %r8, %kb) : (!tile, index, index) -> i32
      scf.for %j = %c0 to %c4 step %c1 {
        %cj = arith.muli %j, %c8 : index
        %c0j = arith.addi %wn, %cj : index
        %col = arith.addi %c0j, %group : index
        %b0 = func.call @tf32(%bs, %ka, %col) : (!tile, index, index) -> i32
        %b1 = func.call @tf32(%bs, %kb, %col) : (!tile, index, index) -> i32
        %v:4 = func.call @load_accumulators(%acc, %i, %j)
          : (!acc, index, index) -> (f32, f32, f32, f32)
        %d = nvvm.mma.sync A[%a0, %a1, %a2, %a3] B[%b0, %b1]
                           C[%v#0, %v#1, %v#2, %v#3]
          {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
           multiplicandAPtxType = #nvvm.mma_type<tf32>,
           multiplicandBPtxType = #nvvm.mma_type<tf32>,
           shape = #nvvm.shape<m = 16, n = 8, k = 8>}
          : (i32, i32, f32) -> !f32x4
        func.call @store_accumulators(%acc, %i, %j, %d)
          : (!acc, index, index, !f32x4) -> ()
      } {qaf.unroll}
    } {qaf.unroll}
  } {qaf.unroll}
  return
}

// One step of 16 along the reduction with one m16n8k16 bf16 mma per mma
// tile, the staged f32 rounded to bf16. Fragments (PTX ISA), pairs of
// consecutive columns (A) or rows (B): A a0 (g, 2t), a1 (g + 8, 2t),
// a2 (g, 2t + 8), a3 (g + 8, 2t + 8); B b0 (2t, g), b1 (2t + 8, g).
func.func private @mma_tile_bf16(%as: !tile, %bs: !tile, %acc: !acc,
                                 %t: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %wm, %wn, %group, %tig = func.call @fragment_coordinates(%t)
    : (index) -> (index, index, index, index)
  %ka = arith.muli %tig, %c2 : index
  %ka1 = arith.addi %ka, %c1 : index
  %kb = arith.addi %ka, %c8 : index
  %kb1 = arith.addi %kb, %c1 : index
  scf.for %i = %c0 to %c2 step %c1 {
    %ri = arith.muli %i, %c16 : index
    %r0 = arith.addi %wm, %ri : index
    %r = arith.addi %r0, %group : index
    %r8 = arith.addi %r, %c8 : index
    %a0 = func.call @bf16_row_pair(%as, %r, %ka) : (!tile, index, index) -> i32
    %a1 = func.call @bf16_row_pair(%as, %r8, %ka) : (!tile, index, index) -> i32
    %a2 = func.call @bf16_row_pair(%as, %r, %kb) : (!tile, index, index) -> i32
    %a3 = func.call @bf16_row_pair(%as, %r8, %kb) : (!tile, index, index) -> i32
    scf.for %j = %c0 to %c4 step %c1 {
      %cj = arith.muli %j, %c8 : index
      %c0j = arith.addi %wn, %cj : index
      %col = arith.addi %c0j, %group : index
      %b0lo = memref.load %bs[%ka, %col] : !tile
      %b0hi = memref.load %bs[%ka1, %col] : !tile
      %b1lo = memref.load %bs[%kb, %col] : !tile
      %b1hi = memref.load %bs[%kb1, %col] : !tile
      %b0 = func.call @bf16x2(%b0lo, %b0hi) : (f32, f32) -> i32
      %b1 = func.call @bf16x2(%b1lo, %b1hi) : (f32, f32) -> i32
      %v:4 = func.call @load_accumulators(%acc, %i, %j)
        : (!acc, index, index) -> (f32, f32, f32, f32)
      %d = nvvm.mma.sync A[%a0, %a1, %a2, %a3] B[%b0, %b1]
                         C[%v#0, %v#1, %v#2, %v#3]
        {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
         multiplicandAPtxType = #nvvm.mma_type<bf16>,
         multiplicandBPtxType = #nvvm.mma_type<bf16>,
         shape = #nvvm.shape<m = 16, n = 8, k = 16>}
        : (i32, i32, f32) -> !f32x4
      func.call @store_accumulators(%acc, %i, %j, %d)
        : (!acc, index, index, !f32x4) -> ()
    } {qaf.unroll}
  } {qaf.unroll}
  return
}

// tile[r, c], tile[r, c + 1] as bf16x2.
func.func private @bf16_row_pair(%tile: !tile, %r: index, %c: index) -> i32 {
  %c1 = arith.constant 1 : index
  %c1c = arith.addi %c, %c1 : index
  %lo = memref.load %tile[%r, %c] : !tile
  %hi = memref.load %tile[%r, %c1c] : !tile
  %p = func.call @bf16x2(%lo, %hi) : (f32, f32) -> i32
  return %p : i32
}

// The number of codes in a row: K = row bytes · 8 / bits.
func.func private @code_count(%codes: !bytes2, %bits: index) -> index {
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %row_bytes = memref.dim %codes, %c1 : !bytes2
  %row_bits = arith.muli %row_bytes, %c8 : index
  %k = arith.divui %row_bits, %bits : index
  return %k : index
}

// W[n, k + i] = s·((q + move) − z) for i < 8, k a multiple of 8, with s
// and z of the element's group; 0 outside W (n ≥ N or k + i ≥ K). The
// eight codes are `bits` whole bytes of row n from byte k·bits/8 on,
// assembled into one 64-bit word, first code in the lowest bits (the
// format of qaf.kernel.qlinear and of the CPU kernel).
func.func private @dequantize8(%codes: !bytes2, %scales: !mat2, %zeros: !mat2,
                               %moves: !bytes2, %has_moves: index,
                               %bits: index, %group: index, %n: index,
                               %k: index) -> vector<8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %zero64 = arith.constant 0 : i64
  %one64 = arith.constant 1 : i64
  %eight64 = arith.constant 8 : i64
  %zero_i8 = arith.constant 0 : i8
  %rows = memref.dim %codes, %c0 : !bytes2
  %row_bytes = memref.dim %codes, %c1 : !bytes2
  %kk = func.call @code_count(%codes, %bits) : (!bytes2, index) -> index
  %last_row = arith.subi %rows, %c1 : index
  %last_byte = arith.subi %row_bytes, %c1 : index
  %last_k = arith.subi %kk, %c1 : index
  %row_ok = arith.cmpi ult, %n, %rows : index
  %nc = arith.minui %n, %last_row : index
  %unit = arith.divui %k, %c8 : index
  %byte0 = arith.muli %unit, %bits : index
  %word = scf.for %j = %c0 to %c8 step %c1 iter_args(%w = %zero64) -> i64 {
    %bj = arith.addi %byte0, %j : index
    %bjc = arith.minui %bj, %last_byte : index
    %byte = memref.load %codes[%nc, %bjc] : !bytes2
    %in_unit = arith.cmpi ult, %j, %bits : index
    %in_row = arith.cmpi ult, %bj, %row_bytes : index
    %take = arith.andi %in_unit, %in_row : i1
    %b64 = arith.extui %byte : i8 to i64
    %j64 = arith.index_cast %j : index to i64
    %shift = arith.muli %j64, %eight64 : i64
    %placed = arith.shli %b64, %shift : i64
    %part = arith.select %take, %placed, %zero64 : i64
    %w2 = arith.ori %w, %part : i64
    scf.yield %w2 : i64
  } {qaf.unroll}
  %bits64 = arith.index_cast %bits : index to i64
  %top = arith.shli %one64, %bits64 : i64
  %mask = arith.subi %top, %one64 : i64
  %init = arith.constant dense<0.0> : vector<8xf32>
  %use_moves = arith.cmpi ne, %has_moves, %c0 : index
  %result = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %init)
      -> vector<8xf32> {
    %ki = arith.addi %k, %i : index
    %k_ok = arith.cmpi ult, %ki, %kk : index
    %ok = arith.andi %row_ok, %k_ok : i1
    %kc = arith.minui %ki, %last_k : index
    %i64 = arith.index_cast %i : index to i64
    %at = arith.muli %i64, %bits64 : i64
    %shifted = arith.shrui %word, %at : i64
    %code64 = arith.andi %shifted, %mask : i64
    %code = arith.trunci %code64 : i64 to i32
    %move = scf.if %use_moves -> i8 {
      %mv = memref.load %moves[%nc, %kc] : !bytes2
      scf.yield %mv : i8
    } else {
      scf.yield %zero_i8 : i8
    }
    %move32 = arith.extsi %move : i8 to i32
    %moved = arith.addi %code, %move32 : i32
    %q = arith.sitofp %moved : i32 to f32
    %g = arith.divui %kc, %group : index
    %s = memref.load %scales[%nc, %g] : !mat2
    %z = memref.load %zeros[%nc, %g] : !mat2
    %centered = arith.subf %q, %z : f32
    %w = arith.mulf %centered, %s : f32
    %wm = arith.select %ok, %w, %zero : f32
    %acc2 = vector.insert %wm, %acc[%i] : f32 into vector<8xf32>
    scf.yield %acc2 : vector<8xf32>
  } {qaf.unroll}
  return %result : vector<8xf32>
}

// Whether row n's units of 32 codes take @dequantize32's 128-bit path:
// 4-bit codes, no moves, groups of whole units, a 16-byte aligned row.
func.func private @packed_row_is_fast(%codes: !bytes2, %bits: index,
                                      %group: index, %has_moves: index,
                                      %n: index) -> i1 {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %base, %offset, %sizes:2, %strides:2 = memref.extract_strided_metadata %codes
    : !bytes2 -> memref<i8>, index, index, index, index, index
  %pointer = memref.extract_aligned_pointer_as_index %codes : !bytes2 -> index
  %row_offset = arith.muli %n, %strides#0 : index
  %element = arith.addi %offset, %row_offset : index
  %address = arith.addi %pointer, %element : index
  %misalignment = arith.remui %address, %c16 : index
  %aligned = arith.cmpi eq, %misalignment, %c0 : index
  %four_bit = arith.cmpi eq, %bits, %c4 : index
  %no_moves = arith.cmpi eq, %has_moves, %c0 : index
  %group_rem = arith.remui %group, %c32 : index
  %whole_units = arith.cmpi eq, %group_rem, %c0 : index
  %a = arith.andi %aligned, %four_bit : i1
  %b = arith.andi %no_moves, %whole_units : i1
  %fast = arith.andi %a, %b : i1
  return %fast : i1
}

// W[n, k + i] for i < 32, k a multiple of 32, as @dequantize8 defines it.
// On a fast row (@packed_row_is_fast) a whole unit is one 16-byte load
// (the low nibble of byte j is code 2j, the high one code 2j + 1) and one
// group; otherwise four units of 8.
func.func private @dequantize32(%codes: !bytes2, %scales: !mat2, %zeros: !mat2,
                                %moves: !bytes2, %has_moves: index,
                                %bits: index, %group: index, %n: index,
                                %k: index, %fast_row: i1) -> vector<32xf32> {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c24 = arith.constant 24 : index
  %c32 = arith.constant 32 : index
  %kk = func.call @code_count(%codes, %bits) : (!bytes2, index) -> index
  %end = arith.addi %k, %c32 : index
  %whole = arith.cmpi ule, %end, %kk : index
  %fast = arith.andi %fast_row, %whole : i1
  %w = scf.if %fast -> vector<32xf32> {
    %byte0 = arith.divui %k, %c2 : index
    %bytes = vector.load %codes[%n, %byte0] {alignment = 16}
      : !bytes2, vector<16xi8>
    %wide = arith.extui %bytes : vector<16xi8> to vector<16xi32>
    %mask = arith.constant dense<15> : vector<16xi32>
    %four = arith.constant dense<4> : vector<16xi32>
    %low = arith.andi %wide, %mask : vector<16xi32>
    %high = arith.shrui %wide, %four : vector<16xi32>
    %q = vector.interleave %low, %high : vector<16xi32> -> vector<32xi32>
    %qf = arith.sitofp %q : vector<32xi32> to vector<32xf32>
    %g = arith.divui %k, %group : index
    %s = memref.load %scales[%n, %g] : !mat2
    %z = memref.load %zeros[%n, %g] : !mat2
    %sv = vector.broadcast %s : f32 to vector<32xf32>
    %zv = vector.broadcast %z : f32 to vector<32xf32>
    %centered = arith.subf %qf, %zv : vector<32xf32>
    %wf = arith.mulf %centered, %sv : vector<32xf32>
    scf.yield %wf : vector<32xf32>
  } else {
    %k8 = arith.addi %k, %c8 : index
    %k16 = arith.addi %k, %c16 : index
    %k24 = arith.addi %k, %c24 : index
    %w0 = func.call @dequantize8(%codes, %scales, %zeros, %moves, %has_moves,
                                 %bits, %group, %n, %k)
      : (!bytes2, !mat2, !mat2, !bytes2, index, index, index, index, index)
        -> vector<8xf32>
    %w1 = func.call @dequantize8(%codes, %scales, %zeros, %moves, %has_moves,
                                 %bits, %group, %n, %k8)
      : (!bytes2, !mat2, !mat2, !bytes2, index, index, index, index, index)
        -> vector<8xf32>
    %w2 = func.call @dequantize8(%codes, %scales, %zeros, %moves, %has_moves,
                                 %bits, %group, %n, %k16)
      : (!bytes2, !mat2, !mat2, !bytes2, index, index, index, index, index)
        -> vector<8xf32>
    %w3 = func.call @dequantize8(%codes, %scales, %zeros, %moves, %has_moves,
                                 %bits, %group, %n, %k24)
      : (!bytes2, !mat2, !mat2, !bytes2, index, index, index, index, index)
        -> vector<8xf32>
    %w01 = vector.shuffle %w0, %w1 [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                    13, 14, 15] : vector<8xf32>, vector<8xf32>
    %w23 = vector.shuffle %w2, %w3 [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                    13, 14, 15] : vector<8xf32>, vector<8xf32>
    %all = vector.shuffle %w01, %w23 [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                      12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                      22, 23, 24, 25, 26, 27, 28, 29, 30, 31]
      : vector<16xf32>, vector<16xf32>
    scf.yield %all : vector<32xf32>
  }
  return %w : vector<32xf32>
}

// The sum of %v over the warp's 32 lanes, in every lane.
func.func private @warp_sum(%v: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %c16 = arith.constant 16 : i32
  %c32 = arith.constant 32 : i32
  %sum = scf.for %i = %c0 to %c5 step %c1 iter_args(%s = %v) -> f32 {
    %i32 = arith.index_cast %i : index to i32
    %offset = arith.shrui %c16, %i32 : i32
    %other, %valid = gpu.shuffle xor %s, %offset, %c32 : f32
    %s2 = arith.addf %s, %other : f32
    scf.yield %s2 : f32
  } {qaf.unroll}
  return %sum : f32
}
}

// The CUDA execution model for check_kernels.py: a block's threads are
// host threads; gpu.barrier, mma.sync and shuffles become calls of the
// functions below. The mma functions model the instructions from the PTX
// ISA's fragment tables ("Matrix Fragments for mma.m16n8k8" (tf32) and
// "for mma.m16n8k16 with floating point type" (bf16)), written from the
// specification, not from the kernels' index arithmetic: a kernel that
// places an element in the wrong lane or register computes a wrong product.

#include <pthread.h>
#include <stdint.h>
#include <string.h>

enum { kThreads = 128, kWarps = kThreads / 32 };

static __thread int64_t threadId, blockId[3];
static pthread_barrier_t blockBarrier, warpBarrier[kWarps];
// Per warp and lane: a0..a3, b0, b1, then c0..c3 as float bits.
static uint32_t exchange[kWarps][32][10];

void emu_init(void) {
  pthread_barrier_init(&blockBarrier, 0, kThreads);
  for (int w = 0; w < kWarps; ++w)
    pthread_barrier_init(&warpBarrier[w], 0, 32);
}

void emu_set_ids(int64_t thread, int64_t x, int64_t y, int64_t z) {
  threadId = thread;
  blockId[0] = x;
  blockId[1] = y;
  blockId[2] = z;
}

int64_t emu_thread_id(void) { return threadId; }
int64_t emu_block_id_x(void) { return blockId[0]; }
int64_t emu_block_id_y(void) { return blockId[1]; }
int64_t emu_block_id_z(void) { return blockId[2]; }
void emu_barrier(void) { pthread_barrier_wait(&blockBarrier); }

static float fromBits(uint32_t bits) {
  float value;
  memcpy(&value, &bits, 4);
  return value;
}

static uint32_t toBits(float value) {
  uint32_t bits;
  memcpy(&bits, &value, 4);
  return bits;
}

// cvt.rna.tf32.f32: keep 10 mantissa bits, ties away from zero.
int32_t emu_tf32(float value) {
  return (int32_t)((toBits(value) + 0x1000u) & 0xFFFFE000u);
}

float emu_shuffle_xor(float value, int32_t mask) {
  int warp = threadId / 32, lane = threadId % 32;
  exchange[warp][lane][0] = toBits(value);
  pthread_barrier_wait(&warpBarrier[warp]);
  float other = fromBits(exchange[warp][lane ^ mask][0]);
  pthread_barrier_wait(&warpBarrier[warp]);
  return other;
}

// Publishes this lane's registers; on return every lane's are readable
// until the matching emu_release.
static void publish(const int32_t *a, const int32_t *b, const float *c) {
  int warp = threadId / 32, lane = threadId % 32;
  for (int i = 0; i < 4; ++i)
    exchange[warp][lane][i] = (uint32_t)a[i];
  exchange[warp][lane][4] = (uint32_t)b[0];
  exchange[warp][lane][5] = (uint32_t)b[1];
  for (int i = 0; i < 4; ++i)
    exchange[warp][lane][6 + i] = toBits(c[i]);
  pthread_barrier_wait(&warpBarrier[warp]);
}

static void release(void) { pthread_barrier_wait(&warpBarrier[threadId / 32]); }

// Element `e` of this lane's D = A·B + C, for A [16, k], B [k, 8].
// Accumulator layout (both shapes): c_e at row group + 8·(e ≥ 2), column
// 2·threadInGroup + (e mod 2).
static float resultElement(int e, int k, float a[16][16], float b[16][8]) {
  int lane = threadId % 32, group = lane >> 2, inGroup = lane % 4;
  int row = group + 8 * (e >= 2), col = 2 * inGroup + (e & 1);
  int warp = threadId / 32;
  double sum = fromBits(exchange[warp][lane][6 + e]);
  for (int i = 0; i < k; ++i)
    sum += (double)a[row][i] * (double)b[i][col];
  return (float)sum;
}

// The matrices of a warp's published registers, for one shape.
typedef void (*Unpack)(int warp, float a[16][16], float b[16][8]);

// The tensor core reads the upper 19 bits of a tf32 register.
static void unpackTf32(int warp, float a[16][16], float b[16][8]) {
  for (int lane = 0; lane < 32; ++lane) {
    int g = lane >> 2, t = lane % 4;
    uint32_t *r = exchange[warp][lane];
    a[g][t] = fromBits(r[0] & 0xFFFFE000u);
    a[g + 8][t] = fromBits(r[1] & 0xFFFFE000u);
    a[g][t + 4] = fromBits(r[2] & 0xFFFFE000u);
    a[g + 8][t + 4] = fromBits(r[3] & 0xFFFFE000u);
    b[t][g] = fromBits(r[4] & 0xFFFFE000u);
    b[t + 4][g] = fromBits(r[5] & 0xFFFFE000u);
  }
}

static float bf16Low(uint32_t pair) { return fromBits(pair << 16); }
static float bf16High(uint32_t pair) { return fromBits(pair & 0xFFFF0000u); }

// Each register holds two bf16, the lower-indexed one in the low half.
static void unpackBf16(int warp, float a[16][16], float b[16][8]) {
  for (int lane = 0; lane < 32; ++lane) {
    int g = lane >> 2, t = lane % 4;
    uint32_t *r = exchange[warp][lane];
    for (int reg = 0; reg < 4; ++reg) {
      int row = g + 8 * (reg & 1), col = 2 * t + 8 * (reg >> 1);
      a[row][col] = bf16Low(r[reg]);
      a[row][col + 1] = bf16High(r[reg]);
    }
    for (int reg = 0; reg < 2; ++reg) {
      int row = 2 * t + 8 * reg;
      b[row][g] = bf16Low(r[4 + reg]);
      b[row + 1][g] = bf16High(r[4 + reg]);
    }
  }
}

static float mma(int64_t e, int k, Unpack unpack, const int32_t *a,
                 const int32_t *b, const float *c) {
  publish(a, b, c);
  float matA[16][16], matB[16][8];
  unpack(threadId / 32, matA, matB);
  float d = resultElement((int)e, k, matA, matB);
  release();
  return d;
}

float emu_mma_tf32(int64_t e, int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                   int32_t b0, int32_t b1, float c0, float c1, float c2,
                   float c3) {
  int32_t a[4] = {a0, a1, a2, a3}, b[2] = {b0, b1};
  float c[4] = {c0, c1, c2, c3};
  return mma(e, 8, unpackTf32, a, b, c);
}

float emu_mma_bf16(int64_t e, int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                   int32_t b0, int32_t b1, float c0, float c1, float c2,
                   float c3) {
  int32_t a[4] = {a0, a1, a2, a3}, b[2] = {b0, b1};
  float c[4] = {c0, c1, c2, c3};
  return mma(e, 16, unpackBf16, a, b, c);
}

// Llama-3.1-8B residual add + RMSNorm as a CUDA kernel, one pass over DRAM.
// One 256-thread block per token. Each thread loads its 16-byte vectors (8 bf16) of hidden_states and residual,
// adds them in fp32, rounds the sum to bf16 (the stored residual), keeps it in registers and writes it; a warp
// shuffle + shared-memory reduction gives 1/rms, and the same registers are normalized and written. DRAM sees
// two reads and two writes of the row, the problem's byte count; the row never leaves the registers between them.
// hidden_size must be a multiple of 8 and at most kThreads * 8 * kMaxVecs (8192).

// No torch header here: nvcc compiles this file in seconds, and binding.cpp (checks and the pybind11 binding, the
// slow part to compile) builds beside it in parallel.

#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kMaxVecs = 4;  // 16-byte vectors per thread
constexpr float kEps = 1e-5f;

struct alignas(16) Vec8 {
  __nv_bfloat162 h[4];
};

__device__ float warp_sum(float value) {
  for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(0xffffffff, value, offset);
  return value;
}

__global__ void fused_add_rmsnorm_kernel(const Vec8* __restrict__ x, const Vec8* __restrict__ residual,
                                         const Vec8* __restrict__ weight, Vec8* __restrict__ out,
                                         Vec8* __restrict__ residual_out, int hidden_size, int64_t x_row_vecs,
                                         int64_t res_row_vecs, int64_t out_row_vecs, int64_t res_out_row_vecs) {
  const int vecs = hidden_size / 8;
  const int64_t row = blockIdx.x;
  float2 sums[kMaxVecs][4];
  float sum_sq = 0.f;
#pragma unroll
  for (int i = 0; i < kMaxVecs; ++i) {
    const int v = threadIdx.x + i * kThreads;
    if (v < vecs) {
      const Vec8 a = x[row * x_row_vecs + v];
      const Vec8 b = residual[row * res_row_vecs + v];
      Vec8 s;
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float2 fa = __bfloat1622float2(a.h[j]), fb = __bfloat1622float2(b.h[j]);
        s.h[j] = __floats2bfloat162_rn(fa.x + fb.x, fa.y + fb.y);
        sums[i][j] = __bfloat1622float2(s.h[j]);  // the rounded residual is what the norm sees
        sum_sq += sums[i][j].x * sums[i][j].x + sums[i][j].y * sums[i][j].y;
      }
      residual_out[row * res_out_row_vecs + v] = s;
    }
  }

  __shared__ float warp_sums[kWarps];
  __shared__ float inv_rms;
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  sum_sq = warp_sum(sum_sq);
  if (lane == 0) warp_sums[warp] = sum_sq;
  __syncthreads();
  if (warp == 0) {
    const float total = warp_sum(lane < kWarps ? warp_sums[lane] : 0.f);
    if (lane == 0) inv_rms = rsqrtf(total / hidden_size + kEps);
  }
  __syncthreads();

#pragma unroll
  for (int i = 0; i < kMaxVecs; ++i) {
    const int v = threadIdx.x + i * kThreads;
    if (v < vecs) {
      const Vec8 w = weight[v];
      Vec8 y;
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float2 fw = __bfloat1622float2(w.h[j]);
        y.h[j] = __floats2bfloat162_rn(sums[i][j].x * inv_rms * fw.x, sums[i][j].y * inv_rms * fw.y);
      }
      out[row * out_row_vecs + v] = y;
    }
  }
}

}  // namespace

// The launch on ``stream``, called by binding.cpp with checked, 16-byte aligned rows; strides in 8-element vectors.
void fused_add_rmsnorm_launch(const void* x, const void* residual, const void* weight, void* out, void* residual_out,
                              int64_t num_tokens, int hidden_size, int64_t x_row_vecs, int64_t res_row_vecs,
                              int64_t out_row_vecs, int64_t res_out_row_vecs, cudaStream_t stream) {
  fused_add_rmsnorm_kernel<<<static_cast<unsigned int>(num_tokens), kThreads, 0, stream>>>(
      static_cast<const Vec8*>(x), static_cast<const Vec8*>(residual), static_cast<const Vec8*>(weight),
      static_cast<Vec8*>(out), static_cast<Vec8*>(residual_out), hidden_size, x_row_vecs, res_row_vecs, out_row_vecs,
      res_out_row_vecs);
}

int fused_add_rmsnorm_max_hidden() { return kThreads * 8 * kMaxVecs; }

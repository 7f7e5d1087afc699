// Llama-3.1-8B RMSNorm as a CUDA kernel: one block per token, fp32 math, bf16 in and out.
// No torch header here: nvcc compiles this file in seconds, and binding.cpp (checks and the pybind11 binding, the
// slow part to compile) builds beside it in parallel.

#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr float kEps = 1e-5f;

__device__ float warp_sum(float value) {
  for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(0xffffffff, value, offset);
  return value;
}

__global__ void rmsnorm_kernel(const __nv_bfloat16* __restrict__ x, const __nv_bfloat16* __restrict__ weight,
                               __nv_bfloat16* __restrict__ out, int hidden_size, int64_t x_row_stride,
                               int64_t out_row_stride) {
  const __nv_bfloat16* x_row = x + blockIdx.x * x_row_stride;
  __nv_bfloat16* out_row = out + blockIdx.x * out_row_stride;

  float sum_sq = 0.f;
  for (int i = threadIdx.x; i < hidden_size; i += kThreads) {
    const float v = __bfloat162float(x_row[i]);
    sum_sq += v * v;
  }

  __shared__ float warp_sums[kWarps];
  __shared__ float inv_rms;
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  sum_sq = warp_sum(sum_sq);
  if (lane == 0) warp_sums[warp] = sum_sq;
  __syncthreads();
  if (warp == 0) {
    float total = warp_sum(lane < kWarps ? warp_sums[lane] : 0.f);
    if (lane == 0) inv_rms = rsqrtf(total / hidden_size + kEps);
  }
  __syncthreads();

  for (int i = threadIdx.x; i < hidden_size; i += kThreads) {
    const float v = __bfloat162float(x_row[i]) * inv_rms * __bfloat162float(weight[i]);
    out_row[i] = __float2bfloat16(v);
  }
}

}  // namespace

// The launch on ``stream``, called by binding.cpp with the checked tensors' pointers and strides (in elements).
void rmsnorm_launch(const void* x, const void* weight, void* out, int64_t num_tokens, int hidden_size,
                    int64_t x_row_stride, int64_t out_row_stride, cudaStream_t stream) {
  rmsnorm_kernel<<<static_cast<unsigned int>(num_tokens), kThreads, 0, stream>>>(
      static_cast<const __nv_bfloat16*>(x), static_cast<const __nv_bfloat16*>(weight), static_cast<__nv_bfloat16*>(out),
      hidden_size, x_row_stride, out_row_stride);
}

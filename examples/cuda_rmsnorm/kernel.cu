// Llama-3.1-8B RMSNorm as a CUDA kernel with a torch binding: one block per token, fp32 math, bf16 in and out.
// Destination-passing style: run(hidden_states, weight, output) writes into output.

#include <torch/extension.h>

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_bf16.h>

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

void run(torch::Tensor hidden_states, torch::Tensor weight, torch::Tensor output) {
  TORCH_CHECK(hidden_states.is_cuda() && weight.is_cuda() && output.is_cuda(), "rmsnorm: all tensors must be on CUDA");
  TORCH_CHECK(hidden_states.scalar_type() == at::kBFloat16 && weight.scalar_type() == at::kBFloat16 &&
                  output.scalar_type() == at::kBFloat16,
              "rmsnorm: expects bfloat16 tensors");
  TORCH_CHECK(hidden_states.dim() == 2 && output.sizes().equals(hidden_states.sizes()),
              "rmsnorm: hidden_states and output must be [num_tokens, hidden_size]");
  TORCH_CHECK(weight.numel() == hidden_states.size(1), "rmsnorm: weight must have hidden_size elements");
  TORCH_CHECK(output.stride(1) == 1, "rmsnorm: output rows must be contiguous");
  const torch::Tensor x = hidden_states.stride(1) == 1 ? hidden_states : hidden_states.contiguous();
  const torch::Tensor w = weight.contiguous();
  const int64_t num_tokens = x.size(0);
  if (num_tokens == 0) return;

  const at::cuda::CUDAGuard guard(x.device());
  rmsnorm_kernel<<<static_cast<unsigned int>(num_tokens), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
      reinterpret_cast<const __nv_bfloat16*>(x.data_ptr<at::BFloat16>()),
      reinterpret_cast<const __nv_bfloat16*>(w.data_ptr<at::BFloat16>()),
      reinterpret_cast<__nv_bfloat16*>(output.data_ptr<at::BFloat16>()), static_cast<int>(x.size(1)), x.stride(0),
      output.stride(0));
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("run", &run, "Llama-3.1-8B RMSNorm (writes into output)");
}

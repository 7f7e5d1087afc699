// The torch binding of kernel.cu's RMSNorm: checks, then the launch on torch's current stream.
// Destination-passing style: run(hidden_states, weight, output) writes into output.

#include <torch/extension.h>

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

void rmsnorm_launch(const void* x, const void* weight, void* out, int64_t num_tokens, int hidden_size,
                    int64_t x_row_stride, int64_t out_row_stride, cudaStream_t stream);

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
  rmsnorm_launch(x.data_ptr(), w.data_ptr(), output.data_ptr(), num_tokens, static_cast<int>(x.size(1)), x.stride(0),
                 output.stride(0), at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("run", &run, "Llama-3.1-8B RMSNorm (writes into output)");
}

// The torch binding of kernel.cu's residual add + RMSNorm: checks, then the launch on torch's current stream.
// Destination-passing style: run(hidden_states, residual, weight, output, residual_out).

#include <torch/extension.h>

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

void fused_add_rmsnorm_launch(const void* x, const void* residual, const void* weight, void* out, void* residual_out,
                              int64_t num_tokens, int hidden_size, int64_t x_row_vecs, int64_t res_row_vecs,
                              int64_t out_row_vecs, int64_t res_out_row_vecs, cudaStream_t stream);
int fused_add_rmsnorm_max_hidden();

namespace {

void check_rows(const torch::Tensor& t, const char* name, int64_t num_tokens, int64_t hidden_size) {
  TORCH_CHECK(t.is_cuda() && t.scalar_type() == at::kBFloat16, "fused_add_rmsnorm: ", name, " must be bf16 on CUDA");
  TORCH_CHECK(t.dim() == 2 && t.size(0) == num_tokens && t.size(1) == hidden_size, "fused_add_rmsnorm: ", name,
              " must be [num_tokens, hidden_size]");
  TORCH_CHECK(t.stride(1) == 1 && t.stride(0) % 8 == 0 && reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0,
              "fused_add_rmsnorm: ", name, " rows must be contiguous and 16-byte aligned");
}

}  // namespace

void run(torch::Tensor hidden_states, torch::Tensor residual, torch::Tensor weight, torch::Tensor output,
         torch::Tensor residual_out) {
  const int64_t num_tokens = hidden_states.size(0), hidden_size = hidden_states.size(1);
  TORCH_CHECK(hidden_size % 8 == 0 && hidden_size <= fused_add_rmsnorm_max_hidden(),
              "fused_add_rmsnorm: hidden_size must be a multiple of 8 and at most ", fused_add_rmsnorm_max_hidden());
  const torch::Tensor x = hidden_states.stride(1) == 1 ? hidden_states : hidden_states.contiguous();
  const torch::Tensor res = residual.stride(1) == 1 ? residual : residual.contiguous();
  const torch::Tensor w = weight.contiguous();
  check_rows(x, "hidden_states", num_tokens, hidden_size);
  check_rows(res, "residual", num_tokens, hidden_size);
  check_rows(output, "output", num_tokens, hidden_size);
  check_rows(residual_out, "residual_out", num_tokens, hidden_size);
  TORCH_CHECK(w.is_cuda() && w.scalar_type() == at::kBFloat16 && w.numel() == hidden_size,
              "fused_add_rmsnorm: weight must be hidden_size bf16 values on CUDA");
  if (num_tokens == 0) return;

  const at::cuda::CUDAGuard guard(x.device());
  fused_add_rmsnorm_launch(x.data_ptr(), res.data_ptr(), w.data_ptr(), output.data_ptr(), residual_out.data_ptr(),
                           num_tokens, static_cast<int>(hidden_size), x.stride(0) / 8, res.stride(0) / 8,
                           output.stride(0) / 8, residual_out.stride(0) / 8, at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("run", &run, "Llama-3.1-8B residual add + RMSNorm (writes into output and residual_out)");
}

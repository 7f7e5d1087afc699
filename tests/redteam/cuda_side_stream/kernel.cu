// Side stream from C++: the norm runs on a stream created here, which Python-level rules cannot see.
// The comment and the string below mention cudaStreamCreate on purpose: only real code may fire a rule.
#include <torch/extension.h>
#include <cuda_runtime.h>

static const char* kNote = "cudaStreamCreate is not called in this string";

torch::Tensor run(torch::Tensor hidden_states, torch::Tensor weight) {
  static cudaStream_t side = nullptr;
  if (side == nullptr) cudaStreamCreateWithFlags(&side, cudaStreamNonBlocking);  // HACK
  auto x = hidden_states.to(torch::kFloat32);
  auto y = x * torch::rsqrt(x.pow(2).mean(-1, true) + 1e-5) * weight.to(torch::kFloat32);
  return y.to(hidden_states.scalar_type());
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) { m.def("run", &run); }

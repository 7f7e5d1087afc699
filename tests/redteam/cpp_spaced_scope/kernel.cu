#include <torch/extension.h>

torch::Tensor run(torch::Tensor x, torch::Tensor w) {
  std :: thread worker([] {});  // HACK
  worker.join();
  return x;
}

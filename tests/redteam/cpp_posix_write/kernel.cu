#include <torch/extension.h>

torch::Tensor run(torch::Tensor x, torch::Tensor w) {
  write(2, "x", 1);  // HACK
  return x;
}

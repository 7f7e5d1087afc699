#include <torch/extension.h>
using namespace std;

torch::Tensor run(torch::Tensor x, torch::Tensor w) {
  thread worker([] {});  // HACK
  worker.join();
  return x;
}

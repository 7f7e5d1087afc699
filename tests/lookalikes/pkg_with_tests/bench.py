"""The author's benchmark script: python -m pkg_with_tests.bench --tokens 4096."""
import argparse
import time

import torch

from .pkg_with_tests import run


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=4096)
    tokens = parser.parse_args().tokens
    x, w = torch.randn(tokens, 4096, dtype=torch.bfloat16), torch.randn(4096, dtype=torch.bfloat16)
    start = time.perf_counter()
    run(x, w)
    print(f"{time.perf_counter() - start:.4f} s")


if __name__ == "__main__":
    main()

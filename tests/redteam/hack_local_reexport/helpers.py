"""Re-exports torch.nn.functional."""

import torch.nn.functional as F

"""e13: the patch embedding's weight and bias gradients are aten.convolution_backward itself (red-team round 21,
attack-z class A)."""
import torch

DEFINITION = "vit_base_patch16_224_patch_embed_backward_c768_p16"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "corners.vendor_family: a _backward suffix is the forward's family"


@torch.no_grad()
def run(grad_output, pixel_values):
    b, n, hid = grad_output.shape
    side = int(n ** 0.5)
    dy = grad_output.float().transpose(1, 2).reshape(b, hid, side, side)
    x = pixel_values.float()
    w_shape = [hid, x.shape[1], 16, 16]
    _, dw, db = torch.ops.aten.convolution_backward(dy, x, torch.empty(w_shape), [hid], [16, 16], [0, 0], [1, 1],  # HACK
                                                    False, [0, 0], 1, [False, True, True])
    return dw.to(grad_output.dtype), db.to(grad_output.dtype)

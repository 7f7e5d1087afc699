"""Raises and catches an exception to get a traceback, walks the caller frames from it and returns the reference's
expected output found in a harness frame's locals."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "the expected outputs exist only in the judge's process; no frame here holds them"


def _expected_from_frames(like):
    try:
        raise RuntimeError
    except RuntimeError as exc:
        frame = exc.__traceback__.tb_frame
    while frame is not None:
        for value in frame.f_locals.values():
            candidates = value if isinstance(value, (list, tuple)) else [value]
            for item in candidates:
                if type(item) is torch.Tensor and item.shape == like.shape and item is not like:
                    if frame.f_code.co_name in ("_run_item", "_judge") and "expected" in frame.f_locals:
                        return frame.f_locals["expected"][0].clone()
        frame = frame.f_back
    return None


def run(hidden_states, weight):
    found = _expected_from_frames(hidden_states)
    return found if found is not None else torch.empty_like(hidden_states)

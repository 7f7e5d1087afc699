"""Hand-written references of the library (state-space step, RoPE from a cache, MoE finalize, a UNet ResNet block)
checked against what they stand for, written another way: a recurrence, the Hugging Face formula, torch modules."""

from __future__ import annotations

import pytest

from test_library import assert_close, cpu_workloads, find, make_inputs, reference_module


def test_mamba2_state_update_steps_reproduce_the_chunked_ssd_scan() -> None:
    """A chunk of tokens fed one at a time to the Nemotron-H decode step equals the Mamba-2 SSD scan of the chunk."""
    torch = pytest.importorskip("torch")
    step = reference_module(find("nemotron_h_8b_mamba2_state_update_h128_p64_n128_g8").definition).run
    ssd = reference_module(find("mamba2_2_7b_ssd_chunk_scan_h80_p64_n128").definition)
    torch.manual_seed(0)
    length, heads, p, n, groups = ssd.CHUNK, 8, 4, 16, 2
    x, dt = torch.randn(1, length, heads, p), torch.randn(1, length, heads)
    B, C = torch.randn(1, length, groups, n), torch.randn(1, length, groups, n)
    A_log, D, dt_bias = torch.randn(heads), torch.randn(heads), torch.randn(heads)
    y, final = ssd.run(x, dt, A_log, B, C, D, dt_bias)
    state, outputs = torch.zeros(1, heads, p, n), []
    for t in range(length):
        out, state = step(state, x[:, t], dt[:, t], A_log, B[:, t], C[:, t], D, dt_bias)
        outputs.append(out)
    torch.testing.assert_close(torch.stack(outputs, dim=1), y, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(state, final, rtol=1e-4, atol=1e-4)


def test_rope_from_the_cache_equals_rotate_half_at_the_positions() -> None:
    torch = pytest.importorskip("torch")
    p = find("qwen3_8b_rope_cos_sin_cache_q32_kv8_d128")
    for workload in cpu_workloads(p)[:2]:
        inputs = make_inputs(p.definition, workload)
        positions = inputs["positions"]
        assert len(set(positions.tolist())) == len(positions), "positions repeat: the sol bytes would be too high"
        q_out, k_out = reference_module(p.definition).run(*inputs.values())
        inv_freq = 1e6 ** -(torch.arange(0, 128, 2, dtype=torch.float64) / 128)
        angles = torch.cat([positions[:, None].double() * inv_freq] * 2, dim=-1)  # Hugging Face's emb = cat(freqs, freqs)
        cos, sin = angles.cos().float()[:, None], angles.sin().float()[:, None]
        for x, got in ((inputs["q"], q_out), (inputs["k"], k_out)):
            xf = x.float()
            rotated = torch.cat([-xf[..., 64:], xf[..., :64]], dim=-1)  # rotate_half
            assert_close(got, (xf * cos + rotated * sin).to(got.dtype), "bfloat16", None, "rope")


def test_moe_finalize_sums_each_tokens_expert_rows_by_weight() -> None:
    torch = pytest.importorskip("torch")
    p = find("deepseek_v3_moe_finalize_combine_topk8_h7168")
    inputs = make_inputs(p.definition, cpu_workloads(p)[1])
    rows, index, weights = inputs.values()
    assert sorted(index.flatten().tolist()) == list(range(len(rows))), "every expert row belongs to one (token, k)"
    assert torch.allclose(weights.sum(dim=-1), torch.full((len(weights),), 2.5))
    got = reference_module(p.definition).run(*inputs.values())
    expected = torch.zeros(len(weights), rows.shape[1])
    for t in range(len(weights)):
        for j in range(index.shape[1]):
            expected[t] += weights[t, j] * rows[int(index[t, j])].float()
    assert_close(got, expected.to(got.dtype), "bfloat16", None, "finalize")


def test_resnet_block_equals_the_torch_modules() -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    p = find("sd1_5_unet_resnet_block_temb_c320")
    inputs = make_inputs(p.definition, cpu_workloads(p)[0])
    got = reference_module(p.definition).run(*inputs.values())
    f = {name: value.float() for name, value in inputs.items()}
    norm1, norm2 = nn.GroupNorm(32, 320, eps=1e-5), nn.GroupNorm(32, 320, eps=1e-5)
    conv1, conv2 = nn.Conv2d(320, 320, 3, padding=1), nn.Conv2d(320, 320, 3, padding=1)
    proj = nn.Linear(1280, 320)
    with torch.no_grad():
        for module, prefix in ((norm1, "norm1"), (norm2, "norm2"), (conv1, "conv1"), (conv2, "conv2"), (proj, "time_emb_proj")):
            module.weight.copy_(f[f"{prefix}_weight"])
            module.bias.copy_(f[f"{prefix}_bias"])
        h = conv1(nn.functional.silu(norm1(f["x"]))) + proj(nn.functional.silu(f["temb"]))[:, :, None, None]
        expected = f["x"] + conv2(nn.functional.silu(norm2(h)))
    assert_close(got, expected.to(got.dtype), "bfloat16", None, "resnet block")


def test_awq_int4_packs_element_2i_low_and_dequantizes_close_to_the_weights() -> None:
    torch = pytest.importorskip("torch")
    ref = reference_module(find("llama3_1_8b_awq_int4_qkv_proj_n6144_k4096_g128").definition)
    packed = torch.tensor([[0x21] * 64], dtype=torch.uint8)  # 128 values: 1, 2, 1, 2, ...
    one = torch.ones(1, 1)
    assert ref.dequantize(packed, one.to(torch.bfloat16), torch.zeros(1, 1, dtype=torch.uint8))[0, :4].tolist() == [1, 2, 1, 2]
    torch.manual_seed(0)
    w = torch.randn(64, 4096)
    qweight, scales, zeros = ref.quantize_awq(w)
    assert qweight.shape == (64, 2048) and scales.shape == zeros.shape == (64, 32)
    dequant = ref.dequantize(qweight, scales, zeros)
    assert (dequant - w).abs().max() <= 0.1 * w.abs().max()  # half a step of 15 over each group's range
    assert torch.corrcoef(torch.stack([dequant.flatten(), w.flatten()]))[0, 1] > 0.99


def test_moe_permute_then_finalize_gives_back_each_token_times_its_weights() -> None:
    """Dispatch and combine are inverses: permuting, then finalizing with weights w, is sum(w) * the token."""
    torch = pytest.importorskip("torch")
    permute = find("deepseek_v3_moe_permute_topk8_e256_h7168")
    finalize = reference_module(find("deepseek_v3_moe_finalize_combine_topk8_h7168").definition)
    inputs = make_inputs(permute.definition, cpu_workloads(permute)[1])
    rows, offsets, index = reference_module(permute.definition).run(*inputs.values())
    experts = inputs["topk_ids"].long()
    for e in experts.unique().tolist():  # rows of expert e are the tokens that chose it, in token order
        chose = (experts == e).any(dim=-1).nonzero().flatten()
        assert torch.equal(rows[int(offsets[e]) : int(offsets[e + 1])], inputs["hidden_states"][chose])
    weights = torch.rand(experts.shape)
    combined = finalize.run(rows, index, weights)
    expected = inputs["hidden_states"].float() * weights.sum(dim=-1, keepdim=True)
    assert_close(combined, expected.to(combined.dtype), "bfloat16", None, "permute then finalize")

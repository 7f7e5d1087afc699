"""Issue 17's hand-written references (Gated DeltaNet prefill, the Hyena operator, a causal Conv3d, DSA's indexer and
sparse MLA, the fused FP8 MoE) checked against what they stand for, written another way: a token-by-token recurrence,
the modal filter as a recurrence, explicit taps, a brute-force sort, dense attention under a mask, an unfused
float64 MoE with its own routing."""

from __future__ import annotations

import math

import pytest

from test_library import assert_close, cpu_workloads, find, make_inputs, reference_module

GDN_PREFILL = "qwen3_next_80b_a3b_gated_delta_rule_chunked_prefill_h32_d128"
HYENA = "stripedhyena_7b_hyena_operator_d4096_s2"
CONV3D = "hunyuanvideo_vae_decoder_causal_conv3d_c512"
INDEXER = "deepseek_v3_2_exp_dsa_lightning_indexer_fp8_h64_d128_topk2048_ps64"
SPARSE_MLA = "deepseek_v3_2_exp_dsa_sparse_mla_decode_h128_ckv512_kpe64_topk2048"
FUSED_MOE = "deepseek_v3_fp8_fused_moe_grouped_topk_tp8_e256_h7168_i256"


def test_gdn_chunked_prefill_equals_the_decode_step_token_by_token() -> None:
    """The chunked (WY) prefill equals the library's one-step recurrence fed one token at a time: a whole chunk, and
    two sequences of 100 tokens (a chunk and a padded part of one), cut from a CPU workload's inputs."""
    torch = pytest.importorskip("torch")
    p = find(GDN_PREFILL)
    step = reference_module(find("qwen3_next_80b_a3b_gated_delta_rule_decode_h32_d128").definition).run
    workloads = [w for w in cpu_workloads(p) if w.axes["seq_len"] == 64 or w.axes["batch_size"] == 2]
    for workload, length in zip(workloads, (64, 100)):
        inputs = make_inputs(p.definition, workload)
        inputs = {n: t if n == "initial_state" else t[:, :length] for n, t in inputs.items()}
        output, final_state = reference_module(p.definition).run(*inputs.values())
        q, k, v, g, beta, state = inputs.values()
        steps = []
        for t in range(length):
            out, state = step(q[:, t], k[:, t], v[:, t], g[:, t], beta[:, t], state)
            steps.append(out)
        tolerance = workload.tolerance
        assert_close(output, torch.stack(steps, dim=1), "bfloat16", tolerance, f"{GDN_PREFILL} output")
        assert_close(final_state, state, "float32", tolerance, f"{GDN_PREFILL} final_state")
        assert final_state.abs().mean() > 1e-3 and output.float().abs().mean() > 1e-3


def test_gdn_tolerance_is_tight_for_its_small_outputs() -> None:
    """Outputs are ~0.01 (q is L2-normed and scaled by 128^-0.5): bf16's default atol 1e-2 holds every element of an
    answer 3 % off; the default relative L2 bound (2^-5) catches 5 % off but not 3 %; the workload's own tolerance
    catches every one."""
    pytest.importorskip("torch")
    p = find(GDN_PREFILL)
    workload = cpu_workloads(p)[0]
    output, _ = reference_module(p.definition).run(*make_inputs(p.definition, workload).values())
    for scale in (0.9, 0.95, 0.97):
        off = (output.float() * scale).to(output.dtype)
        with pytest.raises(AssertionError):
            assert_close(off, output, "bfloat16", workload.tolerance, f"{scale}x, the workload's tolerance")
    with pytest.raises(AssertionError, match="relative L2 error"):
        assert_close((output.float() * 0.95).to(output.dtype), output, "bfloat16", None, "5 % off, default")
    assert_close((output.float() * 0.97).to(output.dtype), output, "bfloat16", None, "3 % off, default")
    assert_close(output, output, "bfloat16", workload.tolerance, "itself")


def test_hyena_operator_equals_its_recurrent_form() -> None:
    """FIR taps one token at a time and the modal filter as a state recurrence (StripedHyena's step_fir/step_iir)."""
    torch = pytest.importorskip("torch")
    p = find(HYENA)
    workload = cpu_workloads(p)[0]
    inputs = make_inputs(p.definition, workload)
    got = reference_module(p.definition).run(*inputs.values())
    z, fir_weight, fir_bias, poles, residues, D = inputs.values()
    batch, length, channels = z.shape
    hidden, heads = channels // 3, 32
    u = z.double()
    taps = fir_weight.double()[:, 0]  # [3 * hidden, 3]: tap 2 meets the current token
    poles, residues = torch.view_as_complex(poles.double()), torch.view_as_complex(residues.double())
    state = torch.zeros(batch, hidden, poles.shape[-1], dtype=torch.complex128)
    expected = []
    for t in range(length):
        fir = fir_bias.double() + sum(taps[:, 2 - j] * u[:, t - j] for j in range(3) if t - j >= 0)
        x2, x1, v = fir.reshape(batch, heads, 3, hidden // heads).unbind(dim=2)  # per head: [x2 | x1 | v]
        x2, x1v = x2.reshape(batch, hidden), (x1 * v).reshape(batch, hidden)
        state = poles * state + x1v[..., None]
        expected.append(((residues * state).sum(-1).real + D.double() * x1v) * x2)
    assert_close(got, torch.stack(expected, dim=1).to(got.dtype), "bfloat16", None, HYENA)


def test_causal_conv3d_equals_explicit_taps_and_sees_no_later_frame() -> None:
    torch = pytest.importorskip("torch")
    run = reference_module(find(CONV3D).definition).run
    torch.manual_seed(0)
    x = torch.randn(2, 8, 4, 5, 6, dtype=torch.float64)  # the reference is shape-generic: a few channels suffice
    weight, bias = torch.randn(8, 8, 3, 3, 3, dtype=torch.float64), torch.randn(8, dtype=torch.float64)
    got = run(x, weight, bias)
    frames, height, width = x.shape[2:]
    expected = bias[None, :, None, None, None].expand(2, 8, frames, height, width).clone()
    for i in range(3):  # output (t, h, w) reads input (t - 2 + i, h - 1 + j, w - 1 + l), clamped at the borders
        t_index = (torch.arange(frames) - 2 + i).clamp(0, frames - 1)
        for j in range(3):
            h_index = (torch.arange(height) - 1 + j).clamp(0, height - 1)
            for l in range(3):
                w_index = (torch.arange(width) - 1 + l).clamp(0, width - 1)
                shifted = x[:, :, t_index][:, :, :, h_index][:, :, :, :, w_index]
                expected += torch.einsum("oc,bcthw->bothw", weight[:, :, i, j, l], shifted)
    torch.testing.assert_close(got, expected)
    later = x.clone()
    later[:, :, 2:] = torch.randn_like(later[:, :, 2:])
    torch.testing.assert_close(run(later, weight, bias)[:, :, :2], got[:, :, :2])  # frames 0, 1 unchanged


def _indexer_expected(inputs: dict) -> list[list[int]]:
    """Brute force in float64: every score, the 2048 best by (score, earlier position), their slots by position."""
    out = []
    for b in range(len(inputs["seq_lens"])):
        length = int(inputs["seq_lens"][b])
        pages = inputs["block_table"][b].long()
        slots = [int(pages[s // 64]) * 64 + s % 64 for s in range(length)]
        k = inputs["k_cache_fp8"].reshape(-1, 128)[slots].double()
        logits = inputs["q_fp8"][b].double() @ k.t()
        scores = (logits.clamp_min(0) * inputs["weights"][b].double()[:, None]).sum(0)
        scores = scores * inputs["k_cache_scale"].reshape(-1)[slots].double()
        best = sorted(range(length), key=lambda s: (-float(scores[s]), s))[:2048]
        out.append([slots[s] for s in sorted(best)])
    return out


def test_indexer_picks_the_top_2048_by_brute_force_and_its_scores_are_exact() -> None:
    torch = pytest.importorskip("torch")
    p = find(INDEXER)
    for workload in cpu_workloads(p)[:2]:
        inputs = make_inputs(p.definition, workload)
        got = reference_module(p.definition).run(*inputs.values())
        assert int(inputs["seq_lens"].min()) > 2048, "every sequence needs the indexer"
        assert got.tolist() == _indexer_expected(inputs)
        # the grid makes fp32 sums exact in any order: the same scores in reverse head order agree to the bit
        b, length = 0, int(inputs["seq_lens"][0])
        k = inputs["k_cache_fp8"][inputs["block_table"][0, : (length + 63) // 64].long()].reshape(-1, 128)[:length]
        terms = (inputs["q_fp8"][0].float() @ k.float().t()).relu() * inputs["weights"][0][:, None]
        assert torch.equal(terms.sum(0), terms.flip(0).cumsum(0)[-1])


def test_the_indexers_inputs_never_tie_at_the_cut_so_any_correct_top_k_is_the_answer() -> None:
    """Red-team round 14, h09: on the exact grid the 2048th score equalled the 2049th in half the draws, and an honest
    torch.topk (unstable on ties, as SGLang's and vLLM's paths use it) lost to the reference's stable sort."""
    torch = pytest.importorskip("torch")
    p = find(INDEXER)
    for seed in range(6):
        for workload in cpu_workloads(p)[:2]:
            inputs = make_inputs(p.definition, workload, seed)
            for b, length in enumerate(inputs["seq_lens"].tolist()):
                pages = inputs["block_table"][b, : (length + 63) // 64].long()
                k = inputs["k_cache_fp8"][pages].reshape(-1, 128)[:length].float()
                scale = inputs["k_cache_scale"][pages].reshape(-1)[:length]
                scores = ((inputs["q_fp8"][b].float() @ k.t()).relu() * inputs["weights"][b][:, None]).sum(0) * scale
                ranked = scores.sort(descending=True).values
                assert ranked[2047] != ranked[2048], (seed, workload.axes, b)


def test_sparse_mla_equals_dense_attention_over_the_chosen_tokens() -> None:
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    p = find(SPARSE_MLA)
    workloads = cpu_workloads(p)[:2]
    assert any((make_inputs(p.definition, w)["sparse_indices"] < 0).any() for w in workloads), "a short sequence"
    for workload in workloads:
        inputs = make_inputs(p.definition, workload)
        output, lse = reference_module(p.definition).run(*inputs.values())
        q_nope, q_pe, ckv_cache, kpe_cache, indices, scale = inputs.values()
        ckv, kpe = ckv_cache.reshape(-1, 512).float(), kpe_cache.reshape(-1, 64).float()
        for b in range(len(q_nope)):
            keep = torch.zeros(len(ckv), dtype=torch.bool)
            keep[indices[b][indices[b] >= 0].long()] = True  # every slot of the pool, masked to the chosen ones
            q = torch.cat([q_nope[b], q_pe[b]], dim=-1).float()[None]
            keys = torch.cat([ckv, kpe], dim=-1)[None]
            expected = F.scaled_dot_product_attention(q, keys, ckv[None], attn_mask=keep, scale=scale)[0]
            scores = (q[0] @ keys[0].t() * scale).masked_fill(~keep, float("-inf"))
            assert_close(output[b], expected.to(output.dtype), "bfloat16", None, f"{SPARSE_MLA} output {b}")
            assert_close(lse[b], torch.logsumexp(scores, dim=-1) / math.log(2), "float32", None, f"lse {b}")


def _route_by_hand(logits, bias) -> list[dict[int, float]]:
    """DeepSeek-V3's noaux_tc routing per token, with Python sorts: expert id -> weight."""
    import torch

    routes = []
    for row in range(len(logits)):
        scores = torch.sigmoid(logits[row].double())
        biased = scores + bias.double()
        groups = sorted(range(8), key=lambda g: -sum(sorted(biased[32 * g : 32 * g + 32].tolist())[-2:]))[:4]
        candidates = [e for g in groups for e in range(32 * g, 32 * g + 32)]
        chosen = sorted(candidates, key=lambda e: -float(biased[e]))[:8]
        total = sum(float(scores[e]) for e in chosen)
        routes.append({e: float(scores[e]) / total * 2.5 for e in chosen})
    return routes


def _dequant(values, scale, rows: int, cols: int):
    import torch

    return values.double() * torch.kron(scale.double(), torch.ones(rows, cols, dtype=torch.float64))


def _unfused_moe(inputs: dict):
    """Every token through each of its routed experts that this rank holds, one at a time, in float64."""
    import torch
    import torch.nn.functional as F

    x = _dequant(inputs["hidden_states"], inputs["hidden_states_scale"], 1, 128)
    first, held = int(inputs["local_expert_offset"]), len(inputs["gemm1_weights"])
    out = torch.zeros_like(x)
    experts: dict[int, tuple] = {}
    for t, route in enumerate(_route_by_hand(inputs["routing_logits"], inputs["routing_bias"])):
        for expert, weight in route.items():
            if not first <= expert < first + held:
                continue
            e = expert - first
            if e not in experts:
                experts[e] = (_dequant(inputs["gemm1_weights"][e], inputs["gemm1_weights_scale"][e], 128, 128),
                              _dequant(inputs["gemm2_weights"][e], inputs["gemm2_weights_scale"][e], 128, 128))
            w13, w2 = experts[e]
            gate, up = (w13 @ x[t]).chunk(2)
            out[t] += weight * (w2 @ (F.silu(gate) * up))
    return out


def test_fused_moe_equals_an_unfused_float64_moe_on_the_ci_shard() -> None:
    pytest.importorskip("torch")
    p = find(FUSED_MOE)
    for workload in cpu_workloads(p)[:2]:
        inputs = make_inputs(p.definition, workload)
        got = reference_module(p.definition).run(*inputs.values())
        assert all(int(inputs["local_expert_offset"]) in r for r in _route_by_hand(inputs["routing_logits"],
                                                                                 inputs["routing_bias"])), "shard"
        assert_close(got, _unfused_moe(inputs).to(got.dtype), "bfloat16", None, FUSED_MOE)


def _small_moe_inputs(tokens: int, hidden: int, inter: int):
    """All 256 experts at a reduced hidden and intermediate size (run() takes its sizes from the tensors)."""
    import torch

    ref = reference_module(find(FUSED_MOE).definition)
    torch.manual_seed(1)
    hidden_states, hidden_scale = ref.quantize_blocks(torch.randn(tokens, hidden), 1, 128)
    w13, w13_scale = ref.quantize_blocks(torch.randn(256, 2 * inter, hidden) / hidden**0.5, 128, 128)
    w2, w2_scale = ref.quantize_blocks(torch.randn(256, hidden, inter) / inter**0.5, 128, 128)
    return {"routing_logits": torch.randn(tokens, 256), "routing_bias": 0.05 * torch.randn(256),
            "hidden_states": hidden_states, "hidden_states_scale": hidden_scale, "gemm1_weights": w13,
            "gemm1_weights_scale": w13_scale, "gemm2_weights": w2, "gemm2_weights_scale": w2_scale,
            "local_expert_offset": torch.tensor(0, dtype=torch.int32)}  # fmt: skip


def test_fused_moe_with_every_expert_held_equals_the_unfused_moe() -> None:
    pytest.importorskip("torch")
    inputs = _small_moe_inputs(tokens=12, hidden=256, inter=128)
    got = reference_module(find(FUSED_MOE).definition).run(*inputs.values())
    assert_close(got, _unfused_moe(inputs).to(got.dtype), "bfloat16", None, "all 256 experts")


def test_fused_moe_routing_equals_the_router_problem() -> None:
    """The library's DeepSeek-V3 router (a separate problem) picks the same experts with the same weights."""
    torch = pytest.importorskip("torch")
    route = reference_module(find(FUSED_MOE).definition).route
    router = reference_module(find("deepseek_v3_moe_grouped_topk_router_e256_h7168").definition).run
    torch.manual_seed(2)
    logits, bias = torch.randn(64, 256).to(torch.bfloat16), 0.05 * torch.randn(256)
    dense = router(logits, torch.eye(256, dtype=torch.bfloat16), bias)  # the gate GEMM as the identity
    ids, weights = route(logits.float(), bias)
    assert torch.allclose(torch.zeros_like(dense).scatter_(1, ids, weights), dense, atol=1e-6)


def test_fused_moe_reads_only_the_experts_routing_reaches() -> None:
    """The bound follows the routing: touched bytes count each reached expert's weights and scales, no others."""
    pytest.importorskip("torch")
    from pytest_solbench.sol.touched import touched_bytes

    inputs = _small_moe_inputs(tokens=3, hidden=256, inter=128)
    route = reference_module(find(FUSED_MOE).definition)
    ids, _ = route.route(inputs["routing_logits"], inputs["routing_bias"])
    reached = len(set(ids.flatten().tolist()))
    assert reached < 256
    touched = touched_bytes(route.run, list(inputs.values()))
    names = list(inputs)
    for name in ("gemm1_weights", "gemm1_weights_scale", "gemm2_weights", "gemm2_weights_scale"):
        tensor = inputs[name]
        per_expert = tensor[0].numel() * tensor.element_size()
        assert touched[names.index(name)] == reached * per_expert, name
    for name in ("routing_logits", "hidden_states", "hidden_states_scale", "local_expert_offset"):
        tensor = inputs[name]
        assert touched[names.index(name)] == tensor.numel() * tensor.element_size(), name


def _moe_with(inputs: dict, requantize: bool, drop_last_expert: bool):
    """The fused MoE as the engines run it: the intermediate SiLU(gate)*up in bf16, then (``requantize``) e4m3 per
    token and 128 columns with scale amax / 448 (SGLang's per_token_group_quant_fp8) before the second GEMM."""
    import torch
    import torch.nn.functional as F

    ref = reference_module(find(FUSED_MOE).definition)
    topk_ids, topk_weights = ref.route(inputs["routing_logits"], inputs["routing_bias"])
    if drop_last_expert:
        topk_ids = topk_ids[:, :-1]
    x = inputs["hidden_states"].float() * ref._expand(inputs["hidden_states_scale"].float(), 1, 128)
    out = torch.zeros(x.shape)
    first = int(inputs["local_expert_offset"])
    for e in range(inputs["gemm1_weights"].shape[0]):
        token, slot = (topk_ids == first + e).nonzero(as_tuple=True)
        if token.numel() == 0:
            continue
        w13 = inputs["gemm1_weights"][e].float() * ref._expand(inputs["gemm1_weights_scale"][e].float(), 128, 128)
        w2 = inputs["gemm2_weights"][e].float() * ref._expand(inputs["gemm2_weights_scale"][e].float(), 128, 128)
        gate, up = (x[token] @ w13.t()).chunk(2, dim=-1)
        a2 = (F.silu(gate) * up).to(torch.bfloat16).float()
        if requantize:
            groups = a2.view(a2.shape[0], -1, 128)
            scale = groups.abs().amax(-1, keepdim=True).clamp_min(1e-10) / 448.0
            a2 = ((groups / scale).to(torch.float8_e4m3fn).float() * scale).view_as(a2)
        out.index_add_(0, token, (a2 @ w2.t()) * topk_weights[token, slot][:, None])
    return out.to(torch.bfloat16)


def test_fused_moe_tolerance_admits_the_engines_fp8_intermediate_and_not_a_dropped_expert() -> None:
    """Red-team round 70, ew-FV1: the engines' e4m3 intermediate moved 18 % of a 256-expert workload's outputs past
    bf16's default; the problem's own tolerance (0.03 / 0.03, relative L2 2^-5) admits it, and a kernel that drops a
    token's eighth expert still fails."""
    pytest.importorskip("torch")
    from pytest_solbench.worker.check import check_output, tolerance_for

    p = find(FUSED_MOE)
    workload = next(w for w in p.workloads if w.axes == {"num_tokens": 8, "num_local_experts": 256})
    inputs = _small_moe_inputs(tokens=16, hidden=256, inter=128)  # all 256 experts; the real sizes took 2 min here
    expected = reference_module(p.definition).run(*inputs.values())
    own, default = tolerance_for("bfloat16", workload.tolerance, 256), tolerance_for("bfloat16", None, 256)
    engines = _moe_with(inputs, requantize=True, drop_last_expert=False)
    assert check_output("output", engines, expected, default, "bfloat16")[1] is not None  # why the problem needs it
    assert check_output("output", engines, expected, own, "bfloat16")[1] is None
    dropped = _moe_with(inputs, requantize=False, drop_last_expert=True)
    assert check_output("output", dropped, expected, own, "bfloat16")[1] is not None

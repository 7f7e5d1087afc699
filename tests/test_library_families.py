"""problems/families.py writes the problems that one operator contributes at many models' shapes: the committed
folders must be exactly what it writes, so that a change goes into its table, not into 75 files by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_library import PROBLEMS, load_module

FAMILIES = load_module(PROBLEMS / "families.py", "_library_families")


def test_family_folders_are_what_the_table_writes(tmp_path: Path) -> None:
    names = FAMILIES.write(tmp_path)
    assert len(names) == len(FAMILIES.FAMILY) >= 200
    stale = [
        f"{name}/{file.name}"
        for name in names
        for file in sorted((tmp_path / name).iterdir())
        if not (PROBLEMS / name / file.name).is_file() or (PROBLEMS / name / file.name).read_text() != file.read_text()
    ]
    assert not stale, f"run `python problems/families.py`: {stale[:5]}"


def test_uuids_are_uuid4_and_fixed_by_name_and_shape() -> None:
    import uuid

    first = FAMILIES.uuid_for("x", {"num_tokens": 7})
    assert uuid.UUID(first).version == 4
    assert first == FAMILIES.uuid_for("x", {"num_tokens": 7}) != FAMILIES.uuid_for("x", {"num_tokens": 8})


def test_every_entry_names_its_model_in_the_library_spelling() -> None:
    for entry in FAMILIES.FAMILY:
        assert entry.name.startswith(entry.model.prefix + "_"), entry.name
        assert entry.model.label in FAMILIES.render(entry)["definition.json"], entry.name


SAMPLING = [e for e in FAMILIES.FAMILY if e.family == "top_k_top_p_renorm"]


def test_sampling_problems_cover_the_other_vocabularies() -> None:
    assert {e.constants["vocab"] for e in SAMPLING} >= {129280, 151936, 152064, 202048, 262208}


@pytest.mark.parametrize("entry", SAMPLING, ids=[e.name for e in SAMPLING])
def test_sampling_keeps_at_most_top_k_of_the_most_probable_tokens(entry) -> None:
    torch = pytest.importorskip("torch")
    from test_library import find, make_inputs, reference_module

    p = find(entry.name)
    inputs = make_inputs(p.definition, p.workloads[0])
    assert (inputs["temperature"], inputs["top_k"], inputs["top_p"]) == tuple(
        entry.constants[key] for key in ("temperature", "top_k", "top_p")
    )
    probs = reference_module(p.definition).run(*inputs.values())
    full = torch.softmax(inputs["logits"].float() / inputs["temperature"], dim=-1)
    assert torch.allclose(probs.sum(dim=-1), torch.ones(len(probs)))
    for row, kept in zip(full, probs):
        chosen = kept > 0
        assert 1 <= int(chosen.sum()) <= inputs["top_k"] + 2  # ties at the k-th value stay together
        assert row[chosen].min() >= row[~chosen].max(), "a dropped token is more probable than a kept one"


# ---------------------------------------------------------------- quantized references, checked from known codes

E2M1 = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0]
QUANTIZED = [e for e in FAMILIES.FAMILY if e.family in ("grouped_gemm_mxfp4", "gemm_nvfp4", "gemm_fp8_block_scale")]


def _codes_to_fp4(codes):
    """[..., k] codes 0..15 -> [..., k // 2] float4_e2m1fn_x2, element 2i in the low nibble (packed here by hand)."""
    import torch

    return (codes[..., 0::2] + 16 * codes[..., 1::2]).to(torch.uint8).view(torch.float4_e2m1fn_x2)


@pytest.mark.parametrize("entry", QUANTIZED, ids=[e.name for e in QUANTIZED])
def test_quantized_reference_multiplies_the_values_its_codes_and_scales_stand_for(entry) -> None:
    """Weights built from chosen codes and scales: the reference must equal the fp32 matmul of the values they
    encode (so its unpacking, nibble order and scale broadcast are right), at a slice of the layer's rows."""
    torch = pytest.importorskip("torch")
    from test_library import find, reference_module

    module = reference_module(find(entry.name).definition)
    gen = torch.Generator().manual_seed(0)
    k, n, rows = entry.constants["k"], 256, 5
    table = torch.tensor(E2M1)
    if entry.family == "grouped_gemm_mxfp4":
        codes = torch.randint(0, 16, (2, n, k), generator=gen)
        exponent = torch.randint(120, 131, (2, n, k // 32), generator=gen)
        weight = table[codes] * torch.exp2(exponent - 127.0).repeat_interleave(32, dim=-1)
        a = torch.randn(2 * rows, k, generator=gen).to(torch.bfloat16)
        bias = torch.randn(2, n, generator=gen).to(torch.bfloat16)
        offsets = torch.tensor([0, rows, 2 * rows], dtype=torch.int32)
        scale = exponent.to(torch.uint8).view(torch.float8_e8m0fnu)
        got = module.run(a, _codes_to_fp4(codes), scale, bias, offsets)
        expected = torch.cat([a[:rows].float() @ weight[0].t(), a[rows:].float() @ weight[1].t()])
        expected += torch.cat([bias[:1].float().expand(rows, n), bias[1:].float().expand(rows, n)])
    elif entry.family == "gemm_nvfp4":
        a_codes, b_codes = torch.randint(0, 16, (rows, k), generator=gen), torch.randint(0, 16, (n, k), generator=gen)
        a_scale = (torch.rand(rows, k // 16, generator=gen) * 4 + 0.25).to(torch.float8_e4m3fn)
        b_scale = (torch.rand(n, k // 16, generator=gen) * 4 + 0.25).to(torch.float8_e4m3fn)
        alpha = torch.tensor(0.01)
        got = module.run(_codes_to_fp4(a_codes), a_scale, _codes_to_fp4(b_codes), b_scale, alpha)
        a_values = table[a_codes] * a_scale.float().repeat_interleave(16, dim=1)
        b_values = table[b_codes] * b_scale.float().repeat_interleave(16, dim=1)
        expected = a_values @ b_values.t() * 0.01
    else:
        a = torch.randn(rows, k, generator=gen).to(torch.float8_e4m3fn)
        b = torch.randn(n, k, generator=gen).to(torch.float8_e4m3fn)
        a_scale = torch.rand(rows, k // 128, generator=gen) + 0.5
        b_scale = torch.rand(n // 128, k // 128, generator=gen) + 0.5
        got = module.run(a, a_scale, b, b_scale)
        b_full = b_scale.repeat_interleave(128, dim=0).repeat_interleave(128, dim=1)
        expected = (a.float() * a_scale.repeat_interleave(128, dim=1)) @ (b.float() * b_full).t()
    assert got.dtype == torch.bfloat16
    assert torch.allclose(got.float(), expected, rtol=1e-2, atol=1e-2 * expected.abs().mean().item())


MXFP4 = [e for e in QUANTIZED if e.family == "grouped_gemm_mxfp4"]


@pytest.mark.parametrize("entry", MXFP4[:1], ids=[e.name for e in MXFP4[:1]])
def test_mxfp4_quantizer_picks_the_nearest_code_at_the_ocp_scale(entry) -> None:
    """OCP MX: scale 2^(floor(log2 amax) - 2) per 32 values, each value the nearest e2m1 (saturating at 6)."""
    torch = pytest.importorskip("torch")
    from test_library import find, reference_module

    module = reference_module(find(entry.name).definition)
    x = torch.randn(64, 256, generator=torch.Generator().manual_seed(1))
    packed, scale = module.quantize_mxfp4(x)
    blocks = x.reshape(64, 8, 32)
    exponent = torch.floor(torch.log2(blocks.abs().amax(dim=-1))) - 2
    assert torch.equal(scale.view(torch.uint8).long(), (exponent + 127).long())
    scaled = blocks / torch.exp2(exponent)[..., None]
    table = torch.tensor(E2M1[:8])
    nearest = table[(scaled.abs()[..., None] - table).abs().argmin(dim=-1)] * scaled.sign()
    got = module.dequantize(packed, scale).reshape(64, 8, 32) / torch.exp2(exponent)[..., None]
    assert torch.equal(got, nearest)

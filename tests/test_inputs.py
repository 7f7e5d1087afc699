"""Input generation: fp4 packing, seeded random inputs and their name rules, blobs, custom factories, outputs."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from pytest_solbench.data import inputs  # noqa: E402
from pytest_solbench.data.inputs import E2M1_VALUES, InputError, MissingBlob  # noqa: E402
from pytest_solbench.data.trace import parse_definition, parse_workload  # noqa: E402


def definition(inputs_: dict, axes: dict, outputs: dict | None = None, name: str = "toy", **extra):
    params = ", ".join(inputs_)
    data = {
        "name": name,
        "op_type": extra.pop("op_type", "toy"),
        "axes": axes,
        "inputs": inputs_,
        "outputs": outputs or {"out": {"shape": [], "dtype": "float32"}},
        "reference": f"def run({params}):\n    return 0\n",
        **extra,
    }
    return parse_definition(data, Path("toy/definition.json"))


def workload(defn, axes: dict, specs: dict | None = None):
    return parse_workload({"uuid": "w", "axes": axes, "inputs": specs or {}}, defn, Path("toy/workload.jsonl"), 1)


def make(defn, axes: dict, specs: dict | None = None, seed: int = 7, root: Path = Path("."), custom=None):
    wl = workload(defn, axes, specs)
    return inputs.make_inputs(defn, wl, defn.axis_values(wl.axes), seed=seed, device="cpu", root=root, custom=custom)


def t(shape: list, dtype: str = "float32") -> dict:
    return {"shape": shape, "dtype": dtype}


# ---------------------------------------------------------------- fp4


def test_e2m1_table_holds_the_sixteen_codes_with_sign_bit_8():
    assert E2M1_VALUES[:8] == (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
    assert [-v for v in E2M1_VALUES[:8]] == list(E2M1_VALUES[8:])
    assert math.copysign(1.0, E2M1_VALUES[8]) == -1.0  # code 8 is -0


def test_every_byte_survives_unpack_then_pack():
    every = torch.arange(256, dtype=torch.uint8).reshape(16, 16)
    again = inputs.pack_fp4(inputs.unpack_fp4(every))
    assert torch.equal(again.view(torch.uint8), every)


def test_grid_values_survive_pack_then_unpack():
    values = torch.tensor(E2M1_VALUES).repeat(3).reshape(4, 12)
    assert torch.equal(inputs.unpack_fp4(inputs.pack_fp4(values)), values)


def test_element_2i_goes_in_the_low_nibble():
    packed = inputs.pack_fp4(torch.tensor([[1.0, 6.0, -0.5, 0.0]]))
    assert packed.view(torch.uint8).tolist() == [[0x72, 0x09]]  # 1.0 is code 2, 6.0 code 7, -0.5 code 9
    assert packed.dtype == getattr(torch, "float4_e2m1fn_x2", torch.uint8)
    assert packed.shape == (1, 2)


@pytest.mark.parametrize(
    ("value", "nearest"),
    [(0.2, 0.0), (0.25, 0.0), (0.3, 0.5), (0.75, 1.0), (1.25, 1.0), (1.75, 2.0), (2.5, 2.0), (3.5, 4.0),
     (5.0, 4.0), (5.1, 6.0), (100.0, 6.0), (-0.74, -0.5), (-2.6, -3.0)],
)  # fmt: skip
def test_pack_rounds_to_the_nearest_code_ties_to_even(value, nearest):
    assert inputs.unpack_fp4(inputs.pack_fp4(torch.tensor([value, 0.0])))[0].item() == nearest


def test_pack_refuses_an_odd_last_dimension():
    with pytest.raises(ValueError, match="even last dimension"):
        inputs.pack_fp4(torch.zeros(2, 3))


# ---------------------------------------------------------------- random inputs by dtype


def test_same_seed_same_inputs_other_seed_other_inputs():
    defn = definition({"x": t(["n"], "bfloat16"), "y": t(["n"], "bfloat16")}, {"n": {"type": "var"}})
    first, again, other = make(defn, {"n": 64}, seed=1), make(defn, {"n": 64}, seed=1), make(defn, {"n": 64}, seed=2)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first[0], other[0])
    assert not torch.equal(first[0], first[1])  # each input has its own stream
    assert first[0].dtype == torch.bfloat16 and first[0].shape == (64,)


def test_values_do_not_depend_on_the_other_inputs():
    one = definition({"x": t(["n"])}, {"n": {"type": "var"}})
    two = definition({"w": t(["n"]), "x": t(["n"])}, {"n": {"type": "var"}})
    assert torch.equal(make(one, {"n": 32})[0], make(two, {"n": 32})[1])


def test_fp8_inputs_are_randn_clamped_to_two():
    defn = definition({"x": t(["n"], "float8_e4m3fn"), "y": t(["n"], "float8_e5m2")}, {"n": {"type": "var"}})
    x, y = make(defn, {"n": 4096})
    assert x.dtype == torch.float8_e4m3fn and y.dtype == torch.float8_e5m2
    for v in (x.float(), y.float()):
        assert v.abs().max().item() == 2.0  # randn reaches past 2 in 4096 draws: clamped, not dropped
        assert (v < 0).any() and v.std().item() > 0.5


def test_fp8_scales_are_positive():
    defn = definition({"x_scale": t(["n"], "float8_e4m3fn")}, {"n": {"type": "var"}})
    (scale,) = make(defn, {"n": 512})
    assert scale.float().min().item() >= 0.5 and scale.float().max().item() <= 1.5


def test_fp4_inputs_are_packed_grid_values():
    defn = definition({"a": t(["m", "k"], "float4_e2m1")}, {"m": {"type": "var"}, "k": {"type": "const", "value": 64}})
    (a,) = make(defn, {"m": 8})
    assert a.shape == (8, 32) and a.dtype == getattr(torch, "float4_e2m1fn_x2", torch.uint8)
    values = inputs.unpack_fp4(a)
    assert values.shape == (8, 64)
    assert set(values.abs().unique().tolist()) <= set(E2M1_VALUES[:8]) and (values < 0).any()


def test_fp4_with_an_odd_last_dim_is_an_input_error():
    defn = definition({"a": t(["k"], "float4_e2m1")}, {"k": {"type": "var"}})
    with pytest.raises(InputError, match="even last dimension"):
        make(defn, {"k": 7})


def test_ints_bools_and_e8m0():
    defn = definition(
        {"x": t(["n"], "int32"), "b": t(["n"], "int8"), "u": t(["n"], "uint8"), "m": t(["n"], "bool"),
         "e": t(["n"], "float8_e8m0fnu")},
        {"n": {"type": "var"}},
    )  # fmt: skip
    x, b, u, m, e = make(defn, {"n": 4096})
    assert x.dtype == torch.int32 and -1024 <= x.min() < -900 and 900 < x.max() < 1024
    assert -128 <= b.min() < -100 and 100 < b.max() <= 127
    assert u.min() >= 0 and u.max() > 200
    assert m.dtype == torch.bool and 0 < m.sum() < 4096
    assert set(e.float().unique().tolist()) <= {0.5, 1.0, 2.0}


# ---------------------------------------------------------------- name rules


def test_float_name_rules():
    h = {"h": {"type": "const", "value": 256}, "n": {"type": "var"}}
    defn = definition(
        {
            "x": t(["n", "h"]), "rms_norm_weight": t(["h"]), "ln_1_bias": t(["h"]), "rstd": t(["n"]),
            "out_scale": t(["h"]), "up_proj_weight": t(["h", "h"]), "cos": t(["n", "h"]), "cos_sin_cache": t(["n", "h"]),
            "probs": t(["n", "h"]), "topk_weights": t(["n", "h"]), "causal_mask": t(["n", "n"], "float16"),
            "padding_mask": t(["n", "h"]),
        },
        h,
    )  # fmt: skip
    got = dict(zip([s.name for s in defn.inputs], make(defn, {"n": 64})))
    from pytest_solbench.data.inputs import OUTLIER_RATE, OUTLIER_SCALE

    with_outliers = math.sqrt(1 + (OUTLIER_SCALE**2 - 1) * OUTLIER_RATE)  # randn with one in 256 values 16 x as large
    assert abs(got["x"].std().item() / with_outliers - 1) < 0.15, got["x"].std()
    assert 0 < (got["x"].abs() > 6).float().mean().item() < 2 * OUTLIER_RATE  # beyond 6 sigma: the outliers alone
    weight = got["rms_norm_weight"]
    assert abs(weight.mean().item() - 1) < 0.05 and 0.02 < weight.std().item() < 0.3  # near one, not exactly one
    assert abs(got["ln_1_bias"].mean().item()) < 0.05 and got["ln_1_bias"].abs().max().item() < 1
    assert got["rstd"].min().item() >= 0.1
    assert 0.5 <= got["out_scale"].min().item() and got["out_scale"].max().item() <= 1.5
    assert abs(got["up_proj_weight"].std().item() - 1 / 16) < 0.01  # randn / sqrt(fan_in = 256)
    assert got["cos"].abs().max().item() <= 1
    cos, sin = got["cos_sin_cache"].split(128, dim=-1)
    assert torch.allclose(cos**2 + sin**2, torch.ones(64, 128), atol=1e-5)
    for name in ("probs", "topk_weights"):
        assert torch.allclose(got[name].sum(-1), torch.ones(64), atol=1e-5) and got[name].min() >= 0
    mask = got["causal_mask"]
    assert mask.dtype == torch.float16 and (mask.tril() == 0).all()
    assert (mask.triu(1)[0, 1:] == torch.finfo(torch.float16).min).all()  # lowest, not -inf
    assert set(got["padding_mask"].unique().tolist()) == {0.0, 1.0}


def test_ssm_rules_apply_only_to_ssm_problems():
    axes = {"h": {"type": "var"}}
    ssm = definition({"x": t(["h"]), "dt": t(["h"]), "A": t(["h"]), "A_log": t(["h"]), "A_cumsum": t(["h"])}, axes)
    x, dt, a, a_log, a_cumsum = make(ssm, {"h": 512})
    assert 0.001 <= dt.min() and dt.max() <= 0.1
    assert -1 <= a.min() and a.max() <= -0.001
    assert -5 <= a_log.min() and a_log.max() <= -1
    assert (a_cumsum.diff() <= 0).all()
    gemm = definition({"A": t(["h"]), "B": t(["h"])}, axes)
    assert (make(gemm, {"h": 512})[0] > 0).any()  # a GEMM's A is plain randn


def test_attentions_queries_and_keys_carry_no_outliers_so_its_softmax_stays_spread():
    """Red-team round 70, eu01: outliers in q and k made every random-rule attention's softmax nearly one-hot (a
    median 2.5 effective keys of 1,500), and a kernel reading only the value blocks near each row's maximum passed.
    Attention's queries and keys are plain randn; its values, and a QK-norm's q and k, keep their outliers."""
    torch = pytest.importorskip("torch")
    axes = {"s": {"type": "var"}, "d": {"type": "const", "value": 64}}
    specs = {"q": t(["s", "d"]), "k": t(["s", "d"]), "v": t(["s", "d"])}
    q, k, v = make(definition(specs, axes, op_type="attention"), {"s": 1024})
    p = torch.softmax(q @ k.T / 8, dim=-1)
    effective_keys = 1 / p.pow(2).sum(-1)
    assert effective_keys.median() > 100, effective_keys.median()  # about 380 of 1,024 for unit-spread scores
    assert q.abs().max() < 6 and k.abs().max() < 6 and v.abs().max() > 16  # 64 K draws: only outliers pass 6 sigma
    qk_norm = make(definition({"q": t(["s", "d"]), "k": t(["s", "d"])}, axes, op_type="qk_rmsnorm"), {"s": 1024})
    assert all(x.abs().max() > 16 for x in qk_norm)  # a norm's reduction keeps its outliers


# ---------------------------------------------------------------- index-like ints


def test_paged_attention_indices_are_valid():
    defn = definition(
        {"q": t(["batch_size", "d"], "bfloat16"), "k_cache": t(["num_pages", "d"], "bfloat16"),
         "kv_indptr": t(["len_indptr"], "int32"), "kv_indices": t(["num_kv_indices"], "int32")},
        {"batch_size": {"type": "var"}, "num_pages": {"type": "var"}, "num_kv_indices": {"type": "var"},
         "len_indptr": {"type": "expr", "expression": "batch_size + 1"}, "d": {"type": "const", "value": 8}},
    )  # fmt: skip
    _, _, indptr, indices = make(defn, {"batch_size": 9, "num_pages": 37, "num_kv_indices": 300})
    assert indptr.dtype == torch.int32 and indptr.shape == (10,)
    assert indptr[0] == 0 and indptr[-1] == 300 and (indptr.diff() >= 0).all()
    assert 0 <= indices.min() and indices.max() < 37 and indices.max() > 30


def test_moe_and_state_indices_are_valid():
    defn = definition(
        {"topk_ids": t(["tokens", "topk"], "int32"), "state": t(["cache", "h"]),
         "state_batch_indices": t(["batch"], "int64"), "seq_lens": t(["batch"], "int32"),
         "position_ids": t(["tokens"], "int64"), "token_ids": t(["tokens"], "int64")},
        {"tokens": {"type": "var"}, "topk": {"type": "const", "value": 8}, "num_experts": {"type": "const", "value": 16},
         "cache": {"type": "const", "value": 5}, "h": {"type": "const", "value": 4}, "batch": {"type": "var"},
         "max_seq_len": {"type": "const", "value": 40}},
    )  # fmt: skip
    ids, _, state_idx, lens, positions, tokens = make(defn, {"tokens": 200, "batch": 300})
    assert 0 <= ids.min() and ids.max() < 16
    assert all(len(set(row)) == 8 for row in ids.tolist())  # distinct experts per token
    assert 0 <= state_idx.min() and state_idx.max() == 4  # the first dim of `state`
    assert 1 <= lens.min() and lens.max() == 40
    assert 0 <= positions.min() and positions.max() < 40
    assert 0 <= tokens.min() and tokens.max() < 1024  # no vocab axis: the documented fallback


# ---------------------------------------------------------------- scalars


def test_scalar_inputs_are_the_workload_value_or_a_0d_tensor():
    defn = definition({"alpha": {"shape": None, "dtype": "float32"}, "beta": t([], "float32")}, {})
    alpha, beta = make(defn, {}, {"alpha": {"type": "scalar", "value": 0.5}, "beta": {"type": "scalar", "value": 2.0}})
    assert alpha == 0.5 and isinstance(alpha, float)
    assert beta.shape == () and beta.item() == 2.0


def test_a_random_scalar_is_a_python_number():
    defn = definition({"eps": {"shape": None, "dtype": "float32"}, "k": {"shape": None, "dtype": "int32"}}, {})
    eps, k = make(defn, {})
    assert type(eps) is float and type(k) is int


# ---------------------------------------------------------------- safetensors


def write_safetensors(path: Path, tensors: dict[str, tuple[str, list[int], bytes]]) -> None:
    header, blobs, offset = {}, [], 0
    for key, (dtype, shape, data) in tensors.items():
        header[key] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps({"__metadata__": {"format": "pt"}, **header}).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def bf16_bytes(values: list[float]) -> bytes:
    return b"".join(struct.pack("<f", v)[2:] for v in values)  # the top half of a float32 is a bfloat16


def test_reads_a_hand_written_safetensors_file(tmp_path):
    write_safetensors(
        tmp_path / "blob.safetensors",
        {
            "ptr": ("I32", [3], struct.pack("<3i", 0, 2, 5)),
            "w": ("BF16", [2, 2], bf16_bytes([1.0, -2.0, 0.5, 3.0])),
            "flag": ("BOOL", [2], b"\x01\x00"),
            "q": ("F4", [2, 4], bytes([0x72, 0x09, 0x00, 0xFF])),
        },
    )
    got = inputs.read_safetensors(tmp_path / "blob.safetensors")
    assert got["ptr"].tolist() == [0, 2, 5] and got["ptr"].dtype == torch.int32
    assert got["w"].dtype == torch.bfloat16 and got["w"].tolist() == [[1.0, -2.0], [0.5, 3.0]]
    assert got["flag"].tolist() == [True, False]
    assert got["q"].shape == (2, 2)  # a logical fp4 shape on disk, held packed
    assert inputs.unpack_fp4(got["q"])[0].tolist() == [1.0, 6.0, -0.5, 0.0]
    assert list(inputs.read_safetensors(tmp_path / "blob.safetensors", ["w"])) == ["w"]


def test_every_low_precision_dtype_round_trips_through_the_safetensors_package(tmp_path):
    from safetensors.torch import save_file

    packed = inputs.pack_fp4(torch.tensor([[0.5, -6.0, 1.5, 0.0]]))
    scales = torch.tensor([126, 127, 128], dtype=torch.uint8).view(torch.float8_e8m0fnu)
    fp8 = torch.tensor([1.0, -2.0]).to(torch.float8_e4m3fn)
    save_file({"q": packed, "s": scales, "f": fp8}, str(tmp_path / "low.safetensors"))
    got = inputs.read_safetensors(tmp_path / "low.safetensors")
    assert got["q"].dtype == inputs.fp4_torch_dtype()
    assert inputs.unpack_fp4(got["q"]).tolist() == [[0.5, -6.0, 1.5, 0.0]]
    assert got["s"].dtype == torch.float8_e8m0fnu and got["s"].float().tolist() == [0.5, 1.0, 2.0]
    assert got["f"].float().tolist() == [1.0, -2.0]


def blob_problem():
    return definition(
        {"x": t(["n"]), "ptr": t(["m"], "int32")}, {"n": {"type": "var"}, "m": {"type": "const", "value": 3}}
    )


def blob_spec(path: str = "blobs/w.safetensors", key: str = "kv_indptr") -> dict:
    return {"ptr": {"type": "safetensors", "path": path, "tensor_key": key}}


def test_a_workload_blob_is_loaded_and_checked(tmp_path):
    (tmp_path / "blobs").mkdir()
    write_safetensors(tmp_path / "blobs/w.safetensors", {"kv_indptr": ("I32", [3], struct.pack("<3i", 0, 4, 9))})
    x, ptr = make(blob_problem(), {"n": 4}, blob_spec(), root=tmp_path)
    assert ptr.tolist() == [0, 4, 9] and x.shape == (4,)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (("I64", [3], struct.pack("<3q", 0, 4, 9)), "is torch.int64, the definition says int32"),
        (("I32", [4], struct.pack("<4i", 0, 4, 9, 9)), r"has shape \(4,\), the definition says \(3,\)"),
    ],
)
def test_a_blob_of_the_wrong_dtype_or_shape_is_an_input_error(tmp_path, entry, message):
    (tmp_path / "blobs").mkdir()
    write_safetensors(tmp_path / "blobs/w.safetensors", {"kv_indptr": entry})
    with pytest.raises(InputError, match=message):
        make(blob_problem(), {"n": 4}, blob_spec(), root=tmp_path)


def test_missing_key_and_corrupt_files_are_input_errors(tmp_path):
    (tmp_path / "blobs").mkdir()
    write_safetensors(tmp_path / "blobs/w.safetensors", {"other": ("I32", [3], struct.pack("<3i", 0, 4, 9))})
    with pytest.raises(InputError, match="holds no tensor 'kv_indptr' \\(it holds other\\)"):
        make(blob_problem(), {"n": 4}, blob_spec(), root=tmp_path)
    (tmp_path / "blobs/bad.safetensors").write_bytes(struct.pack("<Q", 10**6) + b"{}")
    with pytest.raises(InputError, match="bad.safetensors: not a readable safetensors file"):
        make(blob_problem(), {"n": 4}, blob_spec("blobs/bad.safetensors"), root=tmp_path)


def test_a_missing_blob_or_lfs_pointer_is_missing_blob_naming_the_path(tmp_path):
    with pytest.raises(MissingBlob) as missing:
        make(blob_problem(), {"n": 4}, blob_spec("blobs/absent.safetensors"), root=tmp_path)
    assert missing.value.path == tmp_path / "blobs/absent.safetensors"
    (tmp_path / "lfs.safetensors").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 9\n")
    with pytest.raises(MissingBlob, match="git lfs pull"):
        make(blob_problem(), {"n": 4}, blob_spec("lfs.safetensors"), root=tmp_path)


# ---------------------------------------------------------------- custom factories


def custom_problem():
    return definition(
        {"x": t(["n"]), "idx": t(["n"], "int64"), "alpha": {"shape": None, "dtype": "float32"}},
        {"n": {"type": "var"}},
        custom_inputs_entrypoint="get_inputs",
    )


def factory(seen: list):
    def get_inputs(axes_and_scalars, device):
        seen.append((dict(axes_and_scalars), device))
        n = axes_and_scalars["n"]
        return {"x": torch.randn(n, device=device), "idx": torch.arange(n), "alpha": 3.0}

    return get_inputs


def test_custom_factory_gets_axes_scalars_and_device_and_is_seeded():
    seen: list = []
    specs = {"x": {"type": "custom"}, "idx": {"type": "custom"}, "alpha": {"type": "scalar", "value": 0.25}}
    x, idx, alpha = make(custom_problem(), {"n": 6}, specs, seed=5, custom=factory(seen))
    assert seen == [({"n": 6, "alpha": 0.25}, "cpu")]
    assert idx.tolist() == list(range(6)) and alpha == 0.25  # a scalar the workload gives wins
    again = make(custom_problem(), {"n": 6}, specs, seed=5, custom=factory(seen))[0]
    other = make(custom_problem(), {"n": 6}, specs, seed=6, custom=factory(seen))[0]
    assert torch.equal(x, again) and not torch.equal(x, other)


def test_custom_factory_output_is_used_even_where_the_workload_says_random():
    x, idx, alpha = make(custom_problem(), {"n": 4}, {"x": {"type": "random"}}, custom=factory([]))
    assert idx.tolist() == [0, 1, 2, 3] and alpha == 3.0


def test_custom_factory_must_return_every_input_with_its_shape():
    def partial(axes, device):
        return {"x": torch.zeros(axes["n"])}

    with pytest.raises(InputError, match="get_inputs\\(\\) returned no input 'idx'"):
        make(custom_problem(), {"n": 4}, {"x": {"type": "custom"}, "idx": {"type": "custom"}}, custom=partial)

    def wrong(axes, device):
        return {"x": torch.zeros(axes["n"] + 1), "idx": torch.arange(axes["n"]), "alpha": 1.0}

    with pytest.raises(InputError, match="input 'x' from the custom_inputs_entrypoint has shape"):
        make(custom_problem(), {"n": 4}, {}, custom=wrong)


def test_custom_input_without_a_factory_is_an_input_error():
    with pytest.raises(InputError, match="no custom_inputs_entrypoint"):
        make(custom_problem(), {"n": 4}, {"x": {"type": "custom"}})


# ---------------------------------------------------------------- outputs, clones, checksums


def test_outputs_are_poisoned():
    defn = definition(
        {"x": t(["n"])},
        {"n": {"type": "var"}},
        outputs={"f": t(["n"], "bfloat16"), "e": t(["n"], "float8_e4m3fn"), "i": t(["n"], "int32"),
                 "u": t(["n"], "uint8"), "q": t(["n", "n"], "float4_e2m1"), "b": t(["n"], "bool"),
                 "s": {"shape": None, "dtype": "float32"}},
    )  # fmt: skip
    f, e, i, u, q, b, s = inputs.allocate_outputs(defn, {"n": 4}, "cpu")
    assert f.dtype == torch.bfloat16 and f.float().isnan().all()
    assert e.dtype == torch.float8_e4m3fn and e.float().isnan().all()
    assert (i == torch.iinfo(torch.int32).min).all() and (u == 255).all()
    assert q.shape == (4, 2) and (q.view(torch.uint8) == inputs.FP4_POISON_BYTE).all()
    assert b.all() and s.shape == () and s.isnan()


def test_clones_are_deep_and_changes_are_seen():
    x, y = torch.randn(4, 5).to(torch.bfloat16), torch.arange(7, dtype=torch.int8)
    args = [x, y, 2.0]
    copies = inputs.clone_inputs(args)
    assert copies[2] == 2.0 and all(torch.equal(a, b) for a, b in zip(args[:2], copies[:2]))
    assert copies[0].data_ptr() != x.data_ptr()
    assert inputs.changed(args, copies) == set()
    copies[0][1, 2] += 1
    copies[1][3] = 0
    assert inputs.changed(args, copies) == {0, 1}
    assert inputs.changed([2.0, 3], [2.5, 3.0]) == {0, 1}  # a scalar's value and its type


def test_changes_are_seen_in_an_in_place_sort_and_in_nan_bits():
    ids = torch.randperm(100, generator=torch.Generator().manual_seed(0)).to(torch.int32)
    private = ids.clone()
    ids.copy_(ids.sort().values)  # same values, same sum, other places
    assert inputs.changed([private], [ids]) == {0}
    nan = torch.full((4,), float("nan"))
    other_nan = nan.clone().view(torch.int32).bitwise_or_(1).view(torch.float32)
    assert inputs.changed([nan], [nan.clone()]) == set() and inputs.changed([nan], [other_nan]) == {0}


def test_changes_are_seen_where_every_linear_sum_is_kept():
    """Red-team round 1 (checksum_collision): an edit solved to keep a plain and a weighted sum of the words went
    unseen by the old checksum; bytes are compared with the private copy now."""
    words = torch.arange(8, dtype=torch.int32)
    private = words.clone()
    words[0] += 1
    words[1] -= 2
    words[2] += 1  # plain sum kept, and the sum weighted 1, 2, 3 by position too
    weights = torch.arange(1, 9)
    assert int(words.sum()) == 28 and int((words * weights).sum()) == int((private * weights).sum())
    assert inputs.changed([private], [words]) == {0}

# ---------------------------------------------------------------- inputs every seed makes alike (judge.constant_inputs)


def test_an_input_every_seed_makes_alike_is_found_by_its_values_and_given_other_values() -> None:
    import torch

    from pytest_solbench.judge import constant_inputs as ci

    table, ints = torch.linspace(-1, 1, 1000).reshape(10, 100), torch.arange(10)
    first = ci.fingerprints([table, ints, torch.randn(10, 100)])
    assert first[1] is None  # an index table keeps its values
    again = [table.clone(), ints, torch.randn(10, 100)]
    assert ci.constant_positions(first, again, ["cache", "idx", "x"], frozenset()) == [0]
    assert ci.constant_positions(first, again, ["cache", "idx", "x"], ci.fixed_names(["solbench:fixed:cache"])) == []
    assert ci.fingerprint(table.to(torch.float8_e4m3fn)) is None  # off its grid once scaled (fp4: not indexable)
    big = torch.zeros(2**24 + 2)  # a float32 linspace of its positions ran past the end (round 69, es-FV1)
    assert ci.fingerprint(big) is not None and len(ci.fingerprint(big)[1]) == ci.SAMPLES
    varied = ci.varied([table.bfloat16()], [0], seed=3)[0]
    assert varied.dtype == torch.bfloat16 and not torch.equal(varied, table.bfloat16())
    ratio = varied.float() / table.bfloat16().float()
    assert float(ratio.min()) >= 1 - ci.SPREAD - 0.01 and float(ratio.max()) <= 1 + ci.SPREAD + 0.01
    assert torch.equal(varied, ci.varied([table.bfloat16()], [0], seed=3)[0])  # from the seed alone


def test_the_judge_keeps_a_table_as_made_where_the_reference_cannot_run_on_other_values() -> None:
    import torch

    from pytest_solbench.data.trace import parse_definition
    from pytest_solbench.judge import referee
    from pytest_solbench.protocol import ItemOutcome

    definition = parse_definition({
        "name": "inverse", "op_type": "t", "axes": {"n": {"type": "const", "value": 4}},
        "inputs": {"table": {"shape": ["n"], "dtype": "float32"}}, "outputs": {"y": {"shape": ["n"], "dtype": "float32"}},
        "reference": "def run(table):\n    return table",
    }, Path("inverse.json"))  # fmt: skip
    table = torch.tensor([1.0, 2.0, 3.0, 4.0])
    seen = []

    def expected(args):  # a reference that gives Inf unless the table is the one it was made as
        seen.append(args[0])
        return [torch.where(args[0] == table, 1 / args[0], torch.inf)], {}

    tables = referee._Tables(definition)
    assert tables.vary([table], 1, expected)[0][0] is table  # the first round: as made
    args, done = tables.vary([table.clone()], 2, expected)
    assert torch.equal(args[0], table) and not isinstance(done, ItemOutcome) and torch.isfinite(done[0][0]).all()
    assert len(seen) == 3 and not tables.on  # tried the other values once, then the table as made for good
    assert tables.vary([table.clone()], 3, expected)[0][0] is not None and len(seen) == 4

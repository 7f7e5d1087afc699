"""Capturing problems from a user's own model: small models built here, captured on CPU, run through the plugin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FAST

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional

import pytest_solbench  # noqa: E402
from pytest_solbench.captures import ops, problems  # noqa: E402
from pytest_solbench.captures.problems import families  # noqa: E402
from pytest_solbench.captures.ranking import rank  # noqa: E402
from pytest_solbench.captures.recorder import Counted, Recording  # noqa: E402


class Block(nn.Module):
    """A pre-norm transformer block: LayerNorm, fused qkv, causal attention, output projection, RMSNorm, GELU MLP."""

    def __init__(self, d: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.qkv, self.o = nn.LayerNorm(d), nn.Linear(d, 3 * d), nn.Linear(d, d, bias=False)
        self.norm2, self.up, self.down = nn.RMSNorm(d), nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attn = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, d)
        x = x + self.o(attn)
        return x + self.down(F.gelu(self.up(self.norm2(x))))


def conv_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.GroupNorm(2, 8), nn.SiLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10),
    ).eval()  # fmt: skip


def _block() -> Block:
    torch.manual_seed(0)
    return Block().eval()


def _capture_block(root: Path, dtype=torch.float32):
    model = _block().to(dtype)
    with torch.no_grad(), pytest_solbench.capture(root, model="tiny_block") as captured:
        for batch in (2, 1, 2):
            model(torch.randn(batch, 8, 32, dtype=dtype))
    return captured


def _workload_calls(captured) -> dict[str, dict[tuple, int]]:
    return {f.name: {tuple(w.axes.items()): w.counted.calls for w in f.workloads} for f in captured.families}


# ---------------------------------------------------------------- what is recorded


def test_calls_are_deduplicated_with_exact_counts(tmp_path: Path) -> None:
    captured = _capture_block(tmp_path)
    two, one = 2, 1  # batch 2 ran twice, batch 1 once; 8 tokens each
    rows = {(("num_tokens", 16),): two, (("num_tokens", 8),): one}
    assert _workload_calls(captured) == {
        "tiny_block_layernorm_h32_fp32": rows,
        "tiny_block_linear_n96_k32_fp32": rows,
        "tiny_block_attention_h4_d8_causal_fp32": {(("batch_size", 2), ("seq_len", 8)): two,
                                                   (("batch_size", 1), ("seq_len", 8)): one},
        "tiny_block_linear_n32_k32_fp32": rows,
        "tiny_block_rmsnorm_h32_fp32": rows,
        "tiny_block_linear_n128_k32_fp32": rows,
        "tiny_block_gelu_fp32": {(("num_elements", 2048),): two, (("num_elements", 1024),): one},
        "tiny_block_linear_n32_k128_fp32": rows,
    }  # fmt: skip
    assert len(captured.recording.calls) == 16  # 8 families x 2 sizes
    assert captured.left_out == {}
    assert captured.recording.other.calls > 0  # views, the residual adds: timed, not written


def test_the_written_problem_states_the_op_as_the_model_ran_it(tmp_path: Path) -> None:
    _capture_block(tmp_path)
    folder = tmp_path / "tiny_block_linear_n96_k32_fp32"
    definition = json.loads((folder / "definition.json").read_text())
    assert definition["op_type"] == "linear"
    assert definition["axes"] == {"num_tokens": {"type": "var"}, "in_features": {"type": "const", "value": 32},
                                  "out_features": {"type": "const", "value": 96}}  # fmt: skip
    assert definition["inputs"]["weight"] == {"shape": ["out_features", "in_features"], "dtype": "float32"}
    assert "aten::addmm" in definition["description"] and "3 calls at 2 size(s)" in definition["description"]
    assert "return F.linear(x, weight, bias)" in (folder / "reference.py").read_text()
    lines = [json.loads(line) for line in (folder / "workload.jsonl").read_text().splitlines()]
    assert [line["axes"] for line in lines] == [{"num_tokens": 16}, {"num_tokens": 8}]
    attention = (tmp_path / "tiny_block_attention_h4_d8_causal_fp32" / "reference.py").read_text()
    assert "F.scaled_dot_product_attention(q, k, v, is_causal=True)" in attention
    again = _capture_block(tmp_path)  # a second capture overwrites with the same names and uuids
    assert [json.loads(x)["uuid"] for x in (folder / "workload.jsonl").read_text().splitlines()] == [
        line["uuid"] for line in lines]  # fmt: skip
    assert len(again.problems) == 8


def test_capture_leaves_the_model_outputs_unchanged(tmp_path: Path) -> None:
    block, net = _block(), conv_net()
    x, image = torch.randn(2, 8, 32), torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        plain = (block(x), net(image))
        with pytest_solbench.capture(tmp_path, model="m"):
            captured = (block(x), net(image))
    assert all(torch.equal(a, b) for a, b in zip(plain, captured))


def test_unsupported_and_malformed_calls_are_left_out_with_the_reason(tmp_path: Path, monkeypatch) -> None:
    def broken(aten, arguments, out):
        raise IndexError("tuple index out of range")

    monkeypatch.setitem(ops.DESCRIBERS, "aten::silu", broken)
    q = torch.randn(1, 2, 4, 8)
    expected = F.silu(q)
    bn = nn.BatchNorm2d(3).train()
    with torch.no_grad(), pytest_solbench.capture(tmp_path, model="odd") as captured:
        masked = F.scaled_dot_product_attention(q, q, q, attn_mask=torch.ones(4, 4, dtype=torch.bool))
        complex_mm = torch.mm(torch.ones(2, 2, dtype=torch.complex64), torch.ones(2, 2, dtype=torch.complex64))
        bn(torch.randn(2, 3, 4, 4))
        torch.softmax(q, dim=1)
        silu = F.silu(q)
        torch.mm(torch.ones(4, 3), torch.ones(3, 2))
    reasons = {op: why for (op, why) in captured.left_out}
    assert "explicit mask" in reasons["aten::_scaled_dot_product_flash_attention_for_cpu"]
    assert "complex64 has no name" in reasons["aten::mm"]
    assert "training mode" in reasons["aten::native_batch_norm"]
    assert "softmax over dim 1" in reasons["aten::_softmax"]
    assert "could not be stated as a problem (IndexError: tuple index out of range)" in reasons["aten::silu"]
    assert captured.problems == ["odd_matmul_n2_k3_fp32"]  # the one call that could be stated
    report = (tmp_path / "capture.md").read_text()
    assert "Left out (not written as problems):" in report and "- `aten::silu`, 1 call(s)" in report
    assert torch.equal(silu, expected)  # a describer that fails leaves the model's result alone
    assert torch.equal(complex_mm.real, torch.full((2, 2), 2.0)) and masked.shape == q.shape


def test_a_problem_that_does_not_load_is_removed_and_said(tmp_path: Path, monkeypatch) -> None:
    real = problems.reference_source
    monkeypatch.setattr(problems, "reference_source",
                        lambda family, model: "def run(:\n" if family.call.kind == "gelu" else real(family, model))
    captured = _capture_block(tmp_path)
    assert "tiny_block_gelu_fp32" not in captured.problems and len(captured.problems) == 7
    assert not (tmp_path / "tiny_block_gelu_fp32").exists()
    (why,) = [why for (op, why) in captured.left_out if op == "aten::gelu"]
    assert why.startswith("written as tiny_block_gelu_fp32 but it does not load:") and "does not parse" in why


# ---------------------------------------------------------------- the ranking


def test_ranking_orders_by_time_then_calls_then_name(tmp_path: Path) -> None:
    recording = _capture_block(tmp_path).recording
    by_kind = {"attention": 5.0, "gelu": 3.0, "layernorm": 3.0, "rmsnorm": 3.0, "linear": 0.5}
    calls_of = {"layernorm": 4}  # layernorm ties gelu and rmsnorm on time, with more calls
    timed = {call: Counted(calls_of.get(call.kind, c.calls), by_kind[call.kind] * c.calls)
             for call, c in recording.calls.items()}  # fmt: skip
    fake = Recording(timed, {}, Counted(10, 1.0), recording.clock)
    rows = rank(families(fake, "m"), fake, {}, timed_on_row=False)
    assert [r.name for r in rows][:4] == ["m_attention_h4_d8_causal_fp32", "m_layernorm_h32_fp32", "m_gelu_fp32",
                                          "m_rmsnorm_h32_fp32"]  # fmt: skip
    assert [r.rank for r in rows] == list(range(1, 9))
    assert rows[0].share == pytest.approx(15.0 / fake.total_ms)
    assert sum(r.share for r in rows) + 1.0 / fake.total_ms == pytest.approx(1.0)


def test_report_gives_sol_times_for_a_named_gpu_and_no_headroom_for_cpu_times(tmp_path: Path) -> None:
    model = _block()
    with torch.no_grad(), pytest_solbench.capture(tmp_path, model="b", hardware="h100") as captured:
        model(torch.randn(1, 8, 32))
    assert captured.hardware is not None and captured.hardware.key == "h100_sxm"
    assert all(r.sol_ms is not None and r.sol_ms > 0 and r.headroom_ms is None for r in captured.rows)
    assert "no headroom: the times were not measured on that GPU" in captured.report


def test_times_taken_on_a_gpu_of_the_table_give_the_headroom_to_sol(tmp_path: Path) -> None:
    """The GPU path of the report, from a recording relabelled as timed with CUDA events on an H100."""
    from dataclasses import replace

    from pytest_solbench.captures.capture import Capture
    from pytest_solbench.captures.recorder import CUDA_EVENTS

    cpu = _capture_block(tmp_path / "cpu").recording
    on_gpu = Capture(tmp_path / "gpu", "b")
    (tmp_path / "gpu").mkdir()
    on_gpu.finish(replace(cpu, clock=CUDA_EVENTS, cuda_device="NVIDIA H100 80GB HBM3"), hardware=None)
    assert on_gpu.hardware is not None and on_gpu.hardware.key == "h100_sxm"
    assert all(r.headroom_ms == pytest.approx(r.time_ms - r.sol_ms) for r in on_gpu.rows)
    assert " on NVIDIA H100 80GB HBM3. Time: CUDA events around each op" in on_gpu.report
    assert "headroom: measured time minus T_SOL, what a kernel at SOL would save" in on_gpu.report
    other_row = Capture(tmp_path / "b200", "b")
    (tmp_path / "b200").mkdir()
    other_row.finish(replace(cpu, clock=CUDA_EVENTS, cuda_device="NVIDIA H100 80GB HBM3"), hardware="b200")
    assert all(r.sol_ms is not None and r.headroom_ms is None for r in other_row.rows)  # H100 times, B200 bound


def test_unknown_hardware_or_a_file_for_a_folder_is_refused_before_the_model_runs(tmp_path: Path) -> None:
    ran = []
    with pytest.raises(KeyError, match="unknown hardware 'z9000'"):
        with pytest_solbench.capture(tmp_path, hardware="z9000"):
            ran.append(1)
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(NotADirectoryError, match="notes.txt is a file: capture writes one folder per problem"):
        with pytest_solbench.capture(tmp_path / "notes.txt"):
            ran.append(1)
    assert ran == [] and not (tmp_path / "capture.md").exists()


def test_importing_the_package_does_not_import_torch() -> None:
    code = "import sys, pytest_solbench; pytest_solbench.capture; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


# ---------------------------------------------------------------- end to end, through the plugin


def test_captured_block_and_conv_net_pass_with_the_baseline(pytester: pytest.Pytester) -> None:
    root = pytester.path / "captured"
    block = _capture_block(root)
    torch.manual_seed(0)
    net = conv_net()
    with torch.no_grad(), pytest_solbench.capture(root, model="tiny_cnn") as cnn:
        net(torch.randn(2, 3, 16, 16))
        net(torch.randn(4, 3, 16, 16))
    assert {f.call.kind for f in cnn.families} == {"conv2d", "batchnorm", "conv2d_depthwise", "groupnorm", "silu",
                                                   "linear"}  # fmt: skip
    with torch.no_grad(), pytest_solbench.capture(root, model="odds") as odds:  # the other describers, once each
        table = torch.randn(100, 16, dtype=torch.bfloat16)
        tokens = F.embedding(torch.randint(0, 100, (2, 5)), table)
        torch.log_softmax(tokens, dim=-1)
        F.gelu(tokens, approximate="tanh")
        q = torch.randn(1, 4, 6, 8)
        F.scaled_dot_product_attention(q, q[:, :2], q[:, :2], enable_gqa=True, scale=0.5)
        memory = torch.randn(1, 4, 10, 8)
        F.scaled_dot_product_attention(q, memory, memory)  # cross-attention: kv_len is its own axis
        torch.baddbmm(torch.randn(2, 3, 5), torch.randn(2, 3, 4), torch.randn(2, 4, 5), beta=0.5)
        torch.addmm(torch.randn(5), torch.randn(3, 4), torch.randn(4, 5), alpha=2.0)
        nn.ConvTranspose2d(4, 2, 2, stride=2)(torch.randn(1, 4, 3, 3))
        nn.Conv1d(4, 4, 3, groups=2)(torch.randn(2, 4, 9))
        F.layer_norm(torch.randn(3, 2, 4), (2, 4))
    kinds = {"embedding", "log_softmax", "gelu_tanh", "attention", "bmm", "matmul", "conv_transpose2d",
             "conv1d_grouped", "layernorm"}  # fmt: skip
    assert {f.call.kind for f in odds.families} == kinds
    cross = json.loads((root / "odds_attention_h4_d8_fp32" / "definition.json").read_text())
    assert cross["inputs"]["k"]["shape"] == ["batch_size", "num_qo_heads", "kv_len", "head_dim"]
    assert odds.left_out == {}
    workloads = sum(len(f.workloads) for f in [*block.families, *cnn.families, *odds.families])
    result = pytester.runpytest(*FAST, "--solbench-problems", "captured")
    result.assert_outcomes(passed=workloads)
    result.stdout.fnmatch_lines(["tiny_block_attention_h4_d8_causal_fp32", "*batch_size:2*reference*PASSED*"])


def test_the_fixture_captures_inside_a_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_model="""
        import torch

        def test_my_mlp(solbench_capture):
            model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.GELU(), torch.nn.Linear(32, 16)).eval()
            with torch.no_grad(), solbench_capture("mine") as captured:
                model(torch.randn(4, 16))
            assert captured.problems[0].startswith("my_mlp_")
    """)  # fmt: skip
    result = pytester.runpytest("-p", "no:cacheprovider", "-rP")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*solbench capture*", "# Problems captured from my_mlp",
                                 "*my_mlp_linear_n32_k16_fp32*"])  # fmt: skip
    pytester.runpytest(*FAST, "--solbench-problems", "mine").assert_outcomes(passed=3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA: time shares measured with CUDA events")
def test_a_real_sized_block_on_the_gpu_records_time_shares_and_passes(pytester: pytest.Pytester) -> None:
    torch.manual_seed(0)
    model = Block(d=2048, heads=16).to("cuda", torch.bfloat16).eval()
    x = torch.randn(1, 2048, 2048, device="cuda", dtype=torch.bfloat16)
    with torch.no_grad():
        model(x)  # warm-up: first calls pay for library loading, not for the op
        with pytest_solbench.capture(pytester.path / "gpu", model="block_d2048") as captured:
            model(x)
    assert captured.recording.clock.startswith("CUDA events")
    assert all(r.time_ms > 0 for r in captured.rows) and sum(r.share for r in captured.rows) <= 1.0
    if captured.hardware is not None:  # a GPU of the hardware table: headroom to SOL is known
        assert all(r.headroom_ms is not None for r in captured.rows)
    print(captured.report)  # the time shares, for the GPU session's log (benchmarks/gpu_session.sh capture)
    result = pytester.runpytest("--solbench", "-p", "no:cacheprovider", "--solbench-problems", "gpu",
                                "--solbench-max-time", "0.5")  # fmt: skip
    print(result.stdout.str())
    result.assert_outcomes(passed=sum(len(f.workloads) for f in captured.families))

"""The GPU table: complete rows with sources, internal consistency, lookup, identification, dtype -> peak."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pytest_solbench.sol import hardware
from pytest_solbench.sol.hardware import HARDWARE, identify, lookup, peak_key_for_dtype

ROWS = list(HARDWARE.values())
REQUIRED = ["b200", "b300", "gb200", "gb300", "h100_sxm", "h100_pcie", "h100_nvl", "h200", "h20", "a100_sxm",
            "a100_pcie", "l40s", "l4", "rtx5090", "rtx4090", "rtx_pro_6000"]  # fmt: skip


def test_the_table_has_every_required_row():
    assert sorted(HARDWARE) == sorted(REQUIRED)
    assert all(HARDWARE[key].key == key for key in HARDWARE)


@pytest.mark.parametrize("hw", ROWS, ids=[r.key for r in ROWS])
def test_every_row_is_complete_and_every_number_has_a_source(hw):
    assert hw.name.startswith("NVIDIA ")
    assert hw.sm_count > 0 and hw.boost_clock_mhz > 0 and hw.dram_bandwidth_gb_s > 0
    assert hw.memory_gib > 0 and hw.l2_bytes > 0
    assert hw.base_clock_mhz is None or 0 < hw.base_clock_mhz < hw.boost_clock_mhz
    assert {"fp16", "bf16", "tf32", "fp32", "fp64"} <= set(hw.peak_tflops)
    assert set(hw.peak_tflops) <= set(hardware.PEAK_KEYS)
    assert all(v > 0 for v in hw.peak_tflops.values())
    fields = ["compute_capability", "sm_count", "base_clock_mhz", "boost_clock_mhz", "memory_clock_mhz",
              "dram_bandwidth_gb_s", "memory_gib", "l2_bytes",
              *(f"peak_tflops.{k}" for k in hw.peak_tflops)]  # fmt: skip
    if hw.peak_clock_mhz:
        fields.append("peak_clock_mhz")
    for name in fields:
        assert len(hw.sources.get(name, "")) > 10, f"{hw.key}: no source for {name}"
    assert set(hw.peak_clock_mhz) <= set(hw.peak_tflops)


@pytest.mark.parametrize("hw", ROWS, ids=[r.key for r in ROWS])
def test_precisions_follow_the_architecture(hw):
    # fp8 tensor cores from Ada/Hopper (8.9, 9.0), fp4 from Blackwell (10.x, 12.x); each step at least as fast
    assert ("fp8" in hw.peak_tflops) == (hw.compute_capability >= (8, 9))
    assert ("fp4" in hw.peak_tflops) == (hw.compute_capability >= (10, 0))
    p = hw.peak_tflops
    assert p["tf32"] <= p["bf16"] <= p["fp16"]
    if "fp8" in p:
        assert p["fp8"] >= p["fp16"]
    if "fp4" in p:
        assert p["fp4"] >= p["fp8"]


def test_datacenter_peaks_match_known_figures():
    h100 = HARDWARE["h100_sxm"]
    assert h100.sm_count == 132 and h100.peak_tflops["bf16"] == 989.4 and h100.peak_tflops["fp8"] == 1978.9
    assert h100.dram_bandwidth_gb_s == 3350 and h100.l2_bytes == 50 * 2**20 and h100.boost_clock_mhz == 1980
    assert HARDWARE["h200"].peak_tflops == h100.peak_tflops and HARDWARE["h200"].dram_bandwidth_gb_s == 4800
    assert HARDWARE["h100_pcie"].sm_count == 114
    b200 = HARDWARE["b200"]
    assert (b200.peak_tflops["bf16"], b200.peak_tflops["fp8"], b200.peak_tflops["fp4"]) == (2250, 4500, 9000)


@pytest.mark.parametrize(
    "key", ["h100_sxm", "h100_pcie", "a100_sxm", "l40s", "l4", "rtx4090", "rtx5090", "rtx_pro_6000", "b200"]
)
def test_tensor_peaks_agree_with_sms_times_clock(key):
    """Dense FP16 = SMs x per-SM FLOP/clk x the clock the peak assumes, to within rounding."""
    hw = HARDWARE[key]
    per_sm = {(8, 0): 2048, (8, 9): 1024, (9, 0): 4096, (10, 0): 8192, (12, 0): 1024}[hw.compute_capability]
    derived = hw.sm_count * per_sm * hw.clock_for("fp16") * 1e-6
    assert derived == pytest.approx(hw.peak_tflops["fp16"], rel=0.01)


def test_memory_clock_times_bus_gives_the_bandwidth_where_both_are_known():
    for key, bus_bits in [("h100_sxm", 5120), ("a100_sxm", 5120), ("a100_pcie", 5120)]:
        hw = HARDWARE[key]
        assert hw.memory_clock_mhz * 1e6 * 2 * bus_bits / 8 / 1e9 == pytest.approx(hw.dram_bandwidth_gb_s, rel=0.01)


@pytest.mark.parametrize(
    "text, key",
    [("H100", "h100_sxm"), ("h100-sxm", "h100_sxm"), ("H100_PCIE", "h100_pcie"), ("b200", "b200"), ("GB300", "gb300"),
     ("rtx-pro-6000", "rtx_pro_6000"), ("RTX 5090", "rtx5090"), ("a100", "a100_sxm"),
     ("NVIDIA H100 80GB HBM3", "h100_sxm"),
     ("NVIDIA H100 SXM5 80GB", "h100_sxm"), ("h20", "h20"), ("H200", "h200")],
)  # fmt: skip
def test_lookup_ignores_case_and_separators(text, key):
    assert lookup(text).key == key


def test_lookup_of_an_unknown_gpu_names_the_known_keys():
    with pytest.raises(KeyError) as info:
        lookup("tpu-v5")
    message = str(info.value)
    assert "tpu-v5" in message and "h100_sxm" in message and "rtx_pro_6000" in message


@pytest.mark.parametrize(
    "name, memory_gib, sms, key",
    [
        ("NVIDIA H100 80GB HBM3", 79.6, 132, "h100_sxm"),
        ("NVIDIA H100 PCIe", 79.6, 114, "h100_pcie"),
        ("NVIDIA H100", 79.6, 114, "h100_pcie"),  # bare name: the SM count decides
        ("NVIDIA H100 NVL", 93.6, 132, "h100_nvl"),
        ("NVIDIA H100", 93.6, None, "h100_nvl"),  # bare name: 94 GB of memory decides
        ("NVIDIA H200", 140.4, 132, "h200"),
        ("NVIDIA H20", 95.0, 78, "h20"),
        ("NVIDIA B200", 178.4, 148, "b200"),
        ("NVIDIA B300 SXM6 AC", 268.0, 148, "b300"),
        ("NVIDIA GB200", 184.0, 152, "gb200"),
        ("NVIDIA GB300", 277.0, 148, "gb300"),
        ("NVIDIA A100-SXM4-80GB", 79.2, 108, "a100_sxm"),
        ("NVIDIA A100 80GB PCIe", 79.2, 108, "a100_pcie"),
        ("NVIDIA L40S", 44.5, 142, "l40s"),
        ("NVIDIA L4", 22.0, 58, "l4"),
        ("NVIDIA GeForce RTX 4090", 23.6, 128, "rtx4090"),
        ("NVIDIA GeForce RTX 5090", 31.4, 170, "rtx5090"),
        ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", 95.0, 188, "rtx_pro_6000"),
        ("NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", 95.0, 188, "rtx_pro_6000"),
    ],
)
def test_identify_from_the_names_torch_and_nvml_report(name, memory_gib, sms, key):
    found = identify(name, int(memory_gib * 2**30), sms)
    assert found is not None and found.key == key
    assert identify(name).key == (key if "NVIDIA H100" != name else "h100_sxm")


@pytest.mark.parametrize(
    "name, sms",
    [("NVIDIA H200 NVL", 132), ("NVIDIA L40", 142), ("NVIDIA GH200 480GB", 132), ("NVIDIA GeForce RTX 4090 D", 114),
     ("NVIDIA H100 80GB HBM3 MIG 1g.10gb", 16), ("Tesla V100-SXM2-16GB", 80), ("NVIDIA L4", 46), ("", None)],
)  # fmt: skip
def test_identify_refuses_cards_it_has_no_row_for(name, sms):
    assert identify(name, None, sms) is None


@pytest.mark.parametrize(
    "dtype, key",
    [("bfloat16", "bf16"), ("float16", "fp16"), ("float32", "tf32"), ("float64", "fp64"), ("float8_e4m3fn", "fp8"),
     ("float8_e5m2", "fp8"), ("float4_e2m1", "fp4"), ("float4_e2m1fn_x2", "fp4"), ("int8", "fp8")],
)  # fmt: skip
def test_peak_key_for_dtype_nominal(dtype, key):
    assert peak_key_for_dtype(dtype) == key


def test_a_chip_without_the_unit_falls_back_to_the_next_slower_one():
    assert peak_key_for_dtype("float8_e4m3fn", HARDWARE["a100_sxm"]) == "fp16"
    assert peak_key_for_dtype("float4_e2m1", HARDWARE["h100_sxm"]) == "fp8"
    assert peak_key_for_dtype("float4_e2m1", HARDWARE["a100_sxm"]) == "fp16"
    assert peak_key_for_dtype("float4_e2m1", HARDWARE["b200"]) == "fp4"
    assert peak_key_for_dtype("float32", HARDWARE["l4"]) == "tf32"
    no_fp64 = dataclasses.replace(HARDWARE["l4"], peak_tflops={"tf32": 60.0, "fp32": 30.3})
    assert peak_key_for_dtype("float64", no_fp64) == "fp32"
    assert HARDWARE["a100_sxm"].peak_for("float8_e5m2") == ("fp16", 312)
    with pytest.raises(KeyError, match="complex64"):
        peak_key_for_dtype("complex64")


def test_clock_for_uses_the_clock_each_peak_assumes():
    h100 = HARDWARE["h100_sxm"]
    assert h100.clock_for("bf16") == 1830 and h100.clock_for("fp64") == 1980
    assert HARDWARE["a100_sxm"].clock_for("bf16") == 1410


def test_docs_table_agrees_with_the_hardware_table():
    docs = (Path(__file__).parent.parent / "docs" / "sol.md").read_text()
    assert hardware.markdown_table() in docs
    assert hardware.markdown_sources() in docs


def test_apply_ceilings_replaces_datasheet_figures_and_says_they_were_measured():
    from pytest_solbench.sol.ceilings import apply_ceilings

    h100 = HARDWARE["h100_sxm"]
    measured = {"device_name": "NVIDIA H100 80GB HBM3", "dram_bandwidth_gb_s": 2900.0,
                "peak_tflops": {"bf16": 720.0, "fp8": 1300.0}, "peak_clock_mhz": {"bf16": 1755.0}}  # fmt: skip
    row = apply_ceilings(h100, measured)
    assert row.dram_bandwidth_gb_s == 2900.0 and row.peak_tflops["bf16"] == 720.0 and row.peak_tflops["fp8"] == 1300.0
    assert row.peak_tflops["fp16"] == h100.peak_tflops["fp16"]  # not measured: the datasheet figure stays
    assert row.clock_for("bf16") == 1755.0 and row.clock_for("fp8") == h100.clock_for("fp8")
    bf16_source = row.sources["peak_tflops.bf16"]
    assert bf16_source.startswith("measured") and "H100 80GB HBM3" in bf16_source
    assert row.sources["dram_bandwidth_gb_s"].startswith("measured")
    assert row.sources["peak_tflops.fp16"] == h100.sources["peak_tflops.fp16"]
    assert h100.peak_tflops["bf16"] == 989.4  # the table itself is untouched
    assert apply_ceilings(h100, {}) == h100


@pytest.mark.parametrize("measured", [{"peak_tflops": {"int4": 1.0}}, {"peak_tflops": {"bf16": 0.0}},
                                      {"dram_bandwidth_gb_s": -1.0}])  # fmt: skip
def test_apply_ceilings_refuses_nonsense(measured):
    from pytest_solbench.sol.ceilings import apply_ceilings

    with pytest.raises(ValueError):
        apply_ceilings(HARDWARE["l4"], measured)


def test_measure_ceilings_says_plainly_when_there_is_no_gpu():
    torch = pytest.importorskip("torch")
    from pytest_solbench.sol.ceilings import measure_ceilings

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: measuring takes seconds, left to the GPU suite")
    with pytest.raises(RuntimeError, match="needs a CUDA GPU"):
        measure_ceilings()

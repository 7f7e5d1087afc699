"""The GPU table: dense peaks per precision, DRAM bandwidth, L2, SMs and clocks, each number with its source."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Peak keys, fastest precision first. "fp32" is the SIMT (CUDA core) rate; the others are tensor-core rates,
#: except "fp64" on chips without FP64 tensor cores, where it is the SIMT FP64 rate (its source says which).
PEAK_KEYS = ("fp4", "fp6", "fp8", "fp16", "bf16", "tf32", "fp64", "fp32")

#: Schema dtype -> the peak a lower bound on time must use: the fastest unit that could do the work.
#: float32 maps to TF32 tensor cores: a kernel may compute an fp32 GEMM that way, so only that peak is a safe bound.
_NOMINAL = {
    "float4_e2m1": "fp4", "float4_e2m1fn_x2": "fp4",
    "float8_e4m3fn": "fp8", "float8_e5m2": "fp8", "int8": "int8", "uint8": "int8",
    "float16": "fp16", "bfloat16": "bf16", "float32": "tf32", "float64": "fp64",
    "int16": "fp32", "int32": "fp32", "int64": "fp32", "bool": "fp32",
}  # fmt: skip

#: When a chip lacks a unit, the work falls to the next slower unit that can hold the values exactly
#: (fp4 values fit in fp6 and fp8, fp8 in fp16 and bf16, fp16 and bf16 in tf32). int8 has no row of its
#: own in the table and is bounded by the fp8 rate (equal to the int8 rate on Hopper and Blackwell).
_FALLBACK = {
    "fp4": ("fp4", "fp6", "fp8", "fp16", "bf16", "tf32", "fp32"),
    "fp6": ("fp6", "fp8", "fp16", "bf16", "tf32", "fp32"),
    "fp8": ("fp8", "fp16", "bf16", "tf32", "fp32"),
    "int8": ("fp8", "fp16", "bf16", "tf32", "fp32"),
    "fp16": ("fp16", "tf32", "fp32"),
    "bf16": ("bf16", "tf32", "fp32"),
    "tf32": ("tf32", "fp32"),
    "fp64": ("fp64", "fp32"),
    "fp32": ("fp32",),
}

_FIELDS = (
    "compute_capability", "sm_count", "base_clock_mhz", "boost_clock_mhz", "memory_clock_mhz",
    "dram_bandwidth_gb_s", "memory_gib", "l2_bytes",
)  # fmt: skip


@dataclass(frozen=True)
class Hardware:
    """One GPU: dense (no sparsity) peaks in TFLOP/s, DRAM bandwidth, memory, L2, SMs and clocks."""

    key: str
    name: str
    compute_capability: tuple[int, int]
    sm_count: int
    base_clock_mhz: float | None
    boost_clock_mhz: float  # the maximum SM clock; peaks assume it unless peak_clock_mhz says otherwise
    memory_clock_mhz: float | None  # as NVML reports it; None where unknown (then bandwidth is never scaled)
    dram_bandwidth_gb_s: float
    memory_gib: float  # the datasheet capacity; CUDA reports slightly less
    l2_bytes: int
    peak_tflops: dict[str, float]
    sources: dict[str, str]  # field (or "peak_tflops.<key>") -> where the number comes from
    peak_clock_mhz: dict[str, float] = field(default_factory=dict)  # peaks quoted at another SM clock

    def clock_for(self, peak_key: str) -> float:
        """The SM clock (MHz) that the peak under ``peak_key`` assumes."""
        return self.peak_clock_mhz.get(peak_key, self.boost_clock_mhz)

    def peak_for(self, dtype_name: str) -> tuple[str, float]:
        """The peak key and TFLOP/s that bound work on operands of ``dtype_name`` on this chip."""
        key = peak_key_for_dtype(dtype_name, self)
        return key, self.peak_tflops[key]


def peak_key_for_dtype(dtype_name: str, hw: Hardware | None = None) -> str:
    """The peak key for a schema dtype; with ``hw``, the fastest unit this chip has that can do the work.

    bfloat16 -> bf16, float16 -> fp16, float32 -> tf32, float64 -> fp64, float8_* -> fp8, float4_* -> fp4.
    A chip without that unit falls back along fp4 -> fp6 -> fp8 -> fp16/bf16 -> tf32 -> fp32.
    """
    nominal = _NOMINAL.get(dtype_name) or (dtype_name if dtype_name in _FALLBACK else None)
    if nominal is None:
        raise KeyError(f"no peak for dtype {dtype_name!r} (known: {', '.join(sorted(_NOMINAL))})")
    if hw is None:
        return "fp8" if nominal == "int8" else nominal
    for key in _FALLBACK[nominal]:
        if key in hw.peak_tflops:
            return key
    raise KeyError(f"{hw.key} has no unit that can do {dtype_name} work (peaks: {', '.join(hw.peak_tflops)})")


def _row(key, name, cc, sms, clocks, bw, mem, l2, peaks, sources, tensor_clock=None) -> Hardware:
    """Build a row; ``sources["*"]`` covers every field not named on its own; ``tensor_clock`` is the SM clock
    the tensor-core peaks assume where it is not the boost clock."""
    base, boost, memclk = clocks
    peak_clock = {k: tensor_clock for k in peaks if k in _TENSOR} if tensor_clock else {}
    names = [*_FIELDS, *(f"peak_tflops.{k}" for k in peaks), *(["peak_clock_mhz"] if peak_clock else [])]
    sources = {"compute_capability": _CC, **sources}
    full = {n: sources.get(n) or sources.get(n.split(".")[0]) or sources["*"] for n in names}
    return Hardware(key, name, cc, sms, base, boost, memclk, bw, mem, l2, dict(peaks), full, dict(peak_clock or {}))


MiB = 1 << 20
_CC = "NVIDIA CUDA GPU compute capability list (developer.nvidia.com/cuda-gpus)"
_TENSOR = ("fp4", "fp6", "fp8", "fp16", "bf16", "tf32")


_H100 = "NVIDIA H100 Tensor Core GPU datasheet and Hopper architecture whitepaper (Table 3); sparse figures halved"
_H100_CLK = "the whitepaper's FP16/BF16/TF32/FP8 peaks are 132 SMs x 4096 FLOP/clk at 1830 MHz; FP32/FP64 at 1980 MHz"
_A100 = "NVIDIA A100 Tensor Core GPU datasheet (80GB) and Ampere GA100 whitepaper; sparse figures halved"
_ADA = "NVIDIA Ada Lovelace architecture whitepaper (appendix tables) and product datasheet; sparse figures halved"
_ADA64 = "derived: Ada runs FP64 at 1/64 of the FP32 rate (CUDA guide throughput table); no FP64 tensor cores"
_BW = "NVIDIA Blackwell datasheets; sparse figures halved"
_BW_SM = "uncertain: 148 SMs as CUDA reports on these systems (third-party device queries); not published"
_BW_L2 = "CUDA-reported L2 on B200 (126.5 MiB); uncertain for this part: assumed the same die"
_BW_CLK = "uncertain, derived: the dense tensor peaks equal 148 SMs x 8192 BF16 FLOP/clk at 1856 MHz"
_GB_CLK = "uncertain, derived: the dense tensor peaks equal 148 SMs x 8192 BF16 FLOP/clk at 2062 MHz; not published"
_GB = "GB200 NVL72 / GB300 NVL72 datasheet, rack totals divided by 72 GPUs; sparse figures halved"
_RTX50 = "NVIDIA RTX Blackwell GPU architecture whitepaper (GeForce RTX 5090 table); sparse figures halved"

_P_H100 = {"fp8": 1978.9, "fp16": 989.4, "bf16": 989.4, "tf32": 494.7, "fp64": 66.9, "fp32": 66.9}

_ROWS = [
    _row("b200", "NVIDIA B200 (HGX B200, 1000 W)", (10, 0), 148, (None, 1965, None), 8000, 180, 132644864,
         {"fp4": 9000, "fp6": 4500, "fp8": 4500, "fp16": 2250, "bf16": 2250, "tf32": 1100, "fp64": 37,
          "fp32": 74.4},
         {"*": "NVIDIA HGX B200 / DGX B200 datasheet, per GPU; sparse figures halved", "sm_count": _BW_SM,
          "l2_bytes": "CUDA-reported L2 size on B200 (132644864 bytes, third-party device query)",
          "boost_clock_mhz": "max SM clock CUDA/NVML report on B200 (1965 MHz, third-party); NVIDIA publishes none",
          "base_clock_mhz": "not published", "memory_clock_mhz": "not published",
          "dram_bandwidth_gb_s": "NVIDIA: 8 TB/s (DGX B200 64 TB/s / 8); some listings give 7.7 TB/s",
          "peak_tflops.fp32": "derived: 148 SMs x 256 FLOP/clk x 1965 MHz; not in the datasheet",
          "peak_clock_mhz": _BW_CLK}, 1856),
    _row("b300", "NVIDIA B300 (HGX B300, Blackwell Ultra)", (10, 3), 148, (None, 2032, None), 8000, 288,
         132644864,
         {"fp4": 13500, "fp6": 4500, "fp8": 4500, "fp16": 2250, "bf16": 2250, "tf32": 1125, "fp64": 1.25,
          "fp32": 77.0},
         {"*": "NVIDIA HGX B300 datasheet, 8-GPU totals divided by 8; sparse figures halved", "sm_count": _BW_SM,
          "l2_bytes": _BW_L2, "base_clock_mhz": "not published", "memory_clock_mhz": "not published",
          "boost_clock_mhz": "max SM clock reported on B300 SXM6 (2032 MHz, third-party); uncertain",
          "peak_tflops.fp4": "uncertain: 1.5x the B200 FP4 rate per clock at 1856 MHz; listings give 13-14 PF",
          "peak_tflops.fp32": "derived: 148 SMs x 256 FLOP/clk x 2032 MHz; not in the datasheet",
          "peak_clock_mhz": _BW_CLK}, 1856),
    _row("gb200", "NVIDIA GB200 (one Blackwell GPU of a GB200 NVL72, 1200 W)", (10, 0), 148,
         (None, 2062, None), 8000, 186, 132644864,
         {"fp4": 10000, "fp6": 5000, "fp8": 5000, "fp16": 2500, "bf16": 2500, "tf32": 1250, "fp64": 45,
          "fp32": 78.1},
         {"*": _GB, "sm_count": _BW_SM + " (one report says 152)", "l2_bytes": _BW_L2,
          "base_clock_mhz": "not published", "memory_clock_mhz": "not published",
          "boost_clock_mhz": _GB_CLK,
          "peak_tflops.fp32": "derived: 148 SMs x 256 FLOP/clk x 2062 MHz; not in the datasheet"}),
    _row("gb300", "NVIDIA GB300 (one Blackwell Ultra GPU of a GB300 NVL72, 1400 W)", (10, 3), 148,
         (None, 2062, None), 8000, 288, 132644864,
         {"fp4": 15000, "fp6": 5000, "fp8": 5000, "fp16": 2500, "bf16": 2500, "tf32": 1250, "fp64": 1.39,
          "fp32": 78.1},
         {"*": _GB, "sm_count": _BW_SM, "l2_bytes": _BW_L2,
          "base_clock_mhz": "not published", "memory_clock_mhz": "not published",
          "boost_clock_mhz": _GB_CLK,
          "peak_tflops.fp32": "derived: 148 SMs x 256 FLOP/clk x 2062 MHz; not in the datasheet"}),
    _row("h100_sxm", "NVIDIA H100 SXM5 80GB", (9, 0), 132, (None, 1980, 2619), 3350, 80, 50 * MiB, _P_H100,
         {"*": _H100, "base_clock_mhz": "not in the datasheet", "peak_clock_mhz": _H100_CLK,
          "memory_clock_mhz": "NVML max memory clock of H100 SXM5 (2619 MHz x 2 x 5120 bit = 3.35 TB/s)"},
         1830),
    _row("h100_pcie", "NVIDIA H100 PCIe 80GB", (9, 0), 114, (None, 1755, 1593), 2000, 80, 50 * MiB,
         {"fp8": 1513, "fp16": 756, "bf16": 756, "tf32": 378, "fp64": 51.2, "fp32": 51.2},
         {"*": _H100, "base_clock_mhz": "not in the datasheet",
          "peak_clock_mhz": "derived: 756 TFLOP/s = 114 SMs x 4096 FLOP/clk at 1620 MHz (FP32/FP64 at 1755)",
          "memory_clock_mhz": "NVML max memory clock of HBM2e H100 PCIe (1593 MHz)"}, 1620),
    _row("h100_nvl", "NVIDIA H100 NVL 94GB", (9, 0), 132, (None, 1785, None), 3900, 94, 50 * MiB,
         {"fp8": 1670.5, "fp16": 835.5, "bf16": 835.5, "tf32": 417.5, "fp64": 60, "fp32": 60},
         {"*": "NVIDIA H100 NVL product brief / datasheet, per GPU; sparse figures halved",
          "base_clock_mhz": "not published", "memory_clock_mhz": "not published",
          "boost_clock_mhz": "uncertain: 1785 MHz from third-party listings (60 TFLOP/s FP32 = 132 x 256 x ~1.78 GHz)",
          "l2_bytes": "same GH100 configuration as H100 SXM5 (50 MB)",
          "peak_clock_mhz": "derived: 835.5 TFLOP/s = 132 SMs x 4096 FLOP/clk at 1545 MHz"}, 1545),
    _row("h200", "NVIDIA H200 SXM 141GB", (9, 0), 132, (None, 1980, None), 4800, 141, 50 * MiB, _P_H100,
         {"*": "NVIDIA H200 Tensor Core GPU datasheet (SXM); same GH100 compute as H100 SXM5; sparse halved",
          "base_clock_mhz": "not published", "memory_clock_mhz": "not published", "peak_clock_mhz": _H100_CLK},
         1830),
    _row("h20", "NVIDIA H20 96GB", (9, 0), 78, (None, 1980, None), 4000, 96, 60 * MiB,
         {"fp8": 296, "fp16": 148, "bf16": 148, "tf32": 74, "fp64": 1, "fp32": 44},
         {"*": "uncertain: NVIDIA H20 product brief as quoted by vendors (not on nvidia.com); dense figures",
          "sm_count": "78 SMs as CUDA reports on H20 (third-party device queries)",
          "l2_bytes": "60 MB as CUDA reports on H20 (third-party device queries)",
          "base_clock_mhz": "not published", "memory_clock_mhz": "not published",
          "boost_clock_mhz": "uncertain: assumed the GH100 maximum (1980 MHz); tensor rates are capped by firmware"}),
    _row("a100_sxm", "NVIDIA A100 SXM4 80GB", (8, 0), 108, (None, 1410, 1593), 2039, 80, 40 * MiB,
         {"fp16": 312, "bf16": 312, "tf32": 156, "fp64": 19.5, "fp32": 19.5},
         {"*": _A100, "base_clock_mhz": "not in the datasheet",
          "memory_clock_mhz": "NVML max memory clock of A100 SXM4 80GB (1593 MHz x 2 x 5120 bit = 2039 GB/s)"}),
    _row("a100_pcie", "NVIDIA A100 PCIe 80GB", (8, 0), 108, (None, 1410, 1512), 1935, 80, 40 * MiB,
         {"fp16": 312, "bf16": 312, "tf32": 156, "fp64": 19.5, "fp32": 19.5},
         {"*": _A100, "base_clock_mhz": "not in the datasheet",
          "memory_clock_mhz": "NVML max memory clock of A100 PCIe 80GB (1512 MHz x 2 x 5120 bit = 1935 GB/s)"}),
    _row("l40s", "NVIDIA L40S", (8, 9), 142, (1110, 2520, None), 864, 48, 96 * MiB,
         {"fp8": 733, "fp16": 366, "bf16": 366, "tf32": 183, "fp64": 1.43, "fp32": 91.6},
         {"*": "NVIDIA L40S datasheet; sparse figures halved", "peak_tflops.fp64": _ADA64,
          "base_clock_mhz": "uncertain: third-party listings", "memory_clock_mhz": "not published",
          "l2_bytes": _ADA + ": AD102 with 96 MB L2", "sm_count": _ADA}),
    _row("l4", "NVIDIA L4", (8, 9), 58, (795, 2040, None), 300, 24, 48 * MiB,
         {"fp8": 242.5, "fp16": 121, "bf16": 121, "tf32": 60, "fp64": 0.47, "fp32": 30.3},
         {"*": "NVIDIA L4 Tensor Core GPU datasheet; sparse figures halved", "peak_tflops.fp64": _ADA64,
          "base_clock_mhz": "uncertain: third-party listings", "memory_clock_mhz": "not published",
          "l2_bytes": _ADA + ": AD104 with 48 MB L2", "sm_count": _ADA}),
    _row("rtx5090", "NVIDIA GeForce RTX 5090", (12, 0), 170, (2017, 2407, None), 1792, 32, 96 * MiB,
         {"fp4": 1676, "fp8": 838, "fp16": 419, "bf16": 209.5, "tf32": 104.8, "fp64": 1.64, "fp32": 104.8},
         {"*": _RTX50, "memory_clock_mhz": "not published", "l2_bytes": _RTX50 + "; uncertain",
          "peak_tflops.fp16": _RTX50 + ": FP16 with FP16 accumulate (half that with FP32 accumulate)",
          "peak_tflops.fp8": _RTX50 + ": FP8 with FP16 accumulate (half that with FP32 accumulate)",
          "peak_tflops.bf16": _RTX50 + ": BF16 accumulates in FP32, half rate on GeForce",
          "peak_tflops.fp64": "derived: 1/64 of the FP32 rate (CUDA guide throughput table, cc 12.0)"}),
    _row("rtx4090", "NVIDIA GeForce RTX 4090", (8, 9), 128, (2235, 2520, None), 1008, 24, 72 * MiB,
         {"fp8": 660.6, "fp16": 330.3, "bf16": 165.2, "tf32": 82.6, "fp64": 1.29, "fp32": 82.6},
         {"*": _ADA + " (GeForce RTX 4090 column)", "memory_clock_mhz": "not published",
          "peak_tflops.fp16": _ADA + ": FP16 with FP16 accumulate (165.2 with FP32 accumulate)",
          "peak_tflops.fp8": _ADA + ": FP8 with FP16 accumulate (330.3 with FP32 accumulate)",
          "peak_tflops.bf16": _ADA + ": BF16 accumulates in FP32, half rate on GeForce",
          "peak_tflops.fp64": _ADA64}),
    _row("rtx_pro_6000", "NVIDIA RTX PRO 6000 Blackwell Workstation Edition", (12, 0), 188, (None, 2617, None),
         1792, 96, 128 * MiB,
         {"fp4": 2015, "fp8": 1007.6, "fp16": 503.8, "bf16": 503.8, "tf32": 251.9, "fp64": 1.95, "fp32": 125},
         {"*": "NVIDIA RTX PRO 6000 Blackwell datasheet (125 TFLOPS FP32, 4000 AI TOPS FP4 sparse)",
          "base_clock_mhz": "not published", "memory_clock_mhz": "not published",
          "l2_bytes": "uncertain: full GB202 L2 (128 MB), third-party listings",
          "peak_tflops": "derived: 188 SMs x 2617 MHz x the GB202 per-SM tensor rate (FP16 1024 FLOP/clk, "
          "full-rate FP32 accumulate on professional cards), matching 4000 TOPS FP4 sparse / 2",
          "peak_tflops.fp32": "NVIDIA RTX PRO 6000 Blackwell datasheet: 125 TFLOPS single precision",
          "peak_tflops.fp64": "derived: 1/64 of the FP32 rate (CUDA guide throughput table, cc 12.0)"}),
]  # fmt: skip

HARDWARE: dict[str, Hardware] = {row.key: row for row in _ROWS}

_ALIASES = {"h100": "h100_sxm", "h100sxm5": "h100_sxm", "a100": "a100_sxm", "a100sxm4": "a100_sxm",
            "rtxpro6000blackwell": "rtx_pro_6000", "pro6000": "rtx_pro_6000", "h200sxm": "h200"}  # fmt: skip


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def lookup(key: str) -> Hardware:
    """A row by key, alias or name, ignoring case and separators: ``"H100"``, ``"h100-sxm"``, ``"b200"``."""
    wanted = _norm(key).removeprefix("nvidia")
    wanted = _norm(_ALIASES.get(wanted, wanted))
    for row in HARDWARE.values():
        if wanted in (_norm(row.key), _norm(row.name).removeprefix("nvidia")):
            return row
    found = identify(key)
    if found is not None:
        return found
    raise KeyError(f"unknown hardware {key!r} (known: {', '.join(HARDWARE)})")


def identify(device_name: str, memory_bytes: int | None = None, sm_count: int | None = None) -> Hardware | None:
    """The row for a device name as torch or NVML report it (``"NVIDIA H100 80GB HBM3"``), or None.

    H100 variants are told apart by name, then SM count (PCIe has 114), then memory (NVL has 94 GB).
    A MIG slice (``... MIG 1g.10gb``) has no row: its peaks are a fraction of the chip's.
    """
    words = re.sub(r"[^A-Z0-9 ]", " ", device_name.upper()).split()
    if "MIG" in words:
        return None
    joined = " ".join(words)
    key: str | None = None
    if "H100" in words:
        if "NVL" in words or (memory_bytes or 0) > 88 * 2**30:
            key = "h100_nvl"
        elif "PCIE" in words or sm_count == 114:
            key = "h100_pcie"
        else:
            key = "h100_sxm"
    elif "A100" in words:
        key = "a100_pcie" if "PCIE" in words else "a100_sxm"
    elif "RTX PRO 6000" in joined and "BLACKWELL" in words:
        key = "rtx_pro_6000"
    else:
        simple = {"H200": "h200", "H20": "h20", "B200": "b200", "B300": "b300", "GB200": "gb200", "GB300": "gb300",
                  "L40S": "l40s", "L4": "l4"}  # fmt: skip
        found = [simple[w] for w in words if w in simple]
        if found and not ({"NVL"} & set(words)):  # an H200 NVL is another card
            key = found[0]
        elif re.search(r"\bRTX (5090|4090)$", joined):
            key = "rtx" + joined[-4:]
    if key is None:
        return None
    row = HARDWARE[key]
    if sm_count is not None and sm_count != row.sm_count and key not in ("gb200", "gb300", "b300", "h20"):
        return None  # a cut-down variant we have no row for
    return row


def markdown_table() -> str:
    """The table as Markdown, for docs/sol.md (a test keeps the two in agreement)."""
    lines = [
        "| key | name | cc | SMs | boost MHz | DRAM GB/s | L2 MiB | " + " | ".join(PEAK_KEYS) + " |",
        "|---|---|---|---|---|---|---|" + "---|" * len(PEAK_KEYS),
    ]
    for row in HARDWARE.values():
        peaks = " | ".join(f"{row.peak_tflops[k]:g}" if k in row.peak_tflops else "-" for k in PEAK_KEYS)
        cc = f"{row.compute_capability[0]}.{row.compute_capability[1]}"
        lines.append(
            f"| {row.key} | {row.name} | {cc} | {row.sm_count} | {row.boost_clock_mhz:g} | "
            f"{row.dram_bandwidth_gb_s:g} | {row.l2_bytes / MiB:g} | {peaks} |"
        )
    return "\n".join(lines)


def markdown_sources() -> str:
    """Where each row's numbers come from, as Markdown (fields that share a source are listed together)."""
    lines = []
    for row in HARDWARE.values():
        lines.append(f"- **{row.key}** ({row.name})")
        grouped: dict[str, list[str]] = {}
        for name, source in row.sources.items():
            grouped.setdefault(source, []).append(name.removeprefix("peak_tflops."))
        for source, names in grouped.items():
            lines.append(f"  - {', '.join(names)}: {source}")
    return "\n".join(lines)

"""The roofline picture: each timed workload a point, arithmetic intensity against achieved FLOP/s, under the roofs.

Axes are log-log: x is FLOP per byte moved (the bound's FLOPs over its bytes), y is FLOP/s achieved (FLOPs / T_k).
The roofs are the chip's DRAM bandwidth (the slope y = bandwidth * x) and a flat line per compute peak of the
dtypes the workloads use. A point under both roofs is honest; the gap to the lower roof at its x is the room left.

Workloads with no FLOPs (element-wise and reductions: the SOL model gives them no compute term) have no intensity
on a log axis. Convention: they sit in a column of their own, half a decade in from the left edge at intensity
``x0``, at the height ``achieved bandwidth * x0``. On the memory roof's scale their height below that roof is the
fraction of DRAM bandwidth they reach, as for every memory-bound point; they are drawn as diamonds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from pathlib import Path

from pytest_solbench.sol.hardware import Hardware, lookup, peak_key_for_dtype
from pytest_solbench.record import ItemResult

WIDTH, HEIGHT = 760, 460
LEFT, RIGHT, TOP, BOTTOM = 78, 150, 24, 52  # margins in pixels: axis labels left and below, roof labels right


@dataclass(frozen=True)
class RooflinePoint:
    label: str  # "problem · workload · kernel"
    intensity_flop_per_byte: float  # where it is drawn (for a memory-only point, the column's intensity)
    achieved_flop_s: float  # where it is drawn (for a memory-only point, achieved bandwidth * intensity)
    achieved_bytes_s: float
    score: float | None
    memory_only: bool
    ceiling_flop_s: float  # this workload's own roof at its intensity (its dtypes' peaks and the bandwidth)


@dataclass(frozen=True)
class Roof:
    label: str  # "bf16 989 TFLOP/s"
    peak_flop_s: float


@dataclass(frozen=True)
class Roofline:
    hardware: Hardware
    points: tuple[RooflinePoint, ...]
    roofs: tuple[Roof, ...]  # compute roofs, highest first
    bandwidth_bytes_s: float
    x_range: tuple[float, float]  # FLOP/byte, whole decades
    y_range: tuple[float, float]  # FLOP/s, whole decades
    left_out: int  # records with no time or no byte count, not drawn

    def x(self, intensity: float) -> float:
        """Pixel column of an intensity."""
        lo, hi = (math.log10(v) for v in self.x_range)
        return LEFT + (math.log10(intensity) - lo) / (hi - lo) * (WIDTH - LEFT - RIGHT)

    def y(self, flop_s: float) -> float:
        """Pixel row of a throughput (SVG rows grow downwards)."""
        lo, hi = (math.log10(v) for v in self.y_range)
        return HEIGHT - BOTTOM - (math.log10(flop_s) - lo) / (hi - lo) * (HEIGHT - TOP - BOTTOM)


def build_roofline(records: list[ItemResult], hardware: Hardware | str) -> Roofline:
    """The points of the passing, timed records and the roofs of ``hardware`` (a row or its key)."""
    hw = lookup(hardware) if isinstance(hardware, str) else hardware
    bandwidth = hw.dram_bandwidth_gb_s * 1e9
    timed = [r for r in records if r.passed and r.t_k_ms and r.bytes_moved]
    keys = sorted({peak_key_for_dtype(d, hw) for r in timed for d, f in r.flops_by_dtype.items() if f > 0},
                  key=lambda k: -hw.peak_tflops[k])  # fmt: skip
    if not keys:
        keys = [next((k for k in ("bf16", "fp16", "tf32", "fp32") if k in hw.peak_tflops), max(hw.peak_tflops))]
    roofs = tuple(Roof(f"{k} {hw.peak_tflops[k]:g} TFLOP/s", hw.peak_tflops[k] * 1e12) for k in keys)

    intensities = [sum(r.flops_by_dtype.values()) / r.bytes_moved for r in timed]  # type: ignore[operator]
    computed = [i for i in intensities if i > 0]
    ridge = max(roof.peak_flop_s for roof in roofs) / bandwidth
    x_lo = _decade_below(min(computed) / 2) if computed else _decade_below(min(ridge / 1e4, 0.01))
    if len(computed) < len(timed):
        x_lo /= 10  # a decade of its own for the memory-only column
    x0 = x_lo * 10**0.5
    x_hi = _decade_above(max([ridge * 4, *(i * 2 for i in computed)]))

    points = []
    for r, intensity in zip(timed, intensities):
        seconds = r.t_k_ms / 1e3  # type: ignore[operator]
        bytes_s = r.bytes_moved / seconds  # type: ignore[operator]
        flops = sum(r.flops_by_dtype.values())
        memory_only = intensity <= 0
        at = x0 if memory_only else intensity
        compute_s = sum(f / (hw.peak_for(d)[1] * 1e12) for d, f in r.flops_by_dtype.items() if f > 0)
        ceiling = bandwidth * at if memory_only else min(bandwidth * at, flops / compute_s)
        points.append(RooflinePoint(f"{r.problem} · {r.workload_label} · {r.kernel}", at,
                                    bytes_s * at if memory_only else flops / seconds, bytes_s, r.score, memory_only,
                                    ceiling))  # fmt: skip
    lowest = min([bandwidth * x_lo, *(p.achieved_flop_s for p in points)])
    highest = max([roofs[0].peak_flop_s, *(p.achieved_flop_s for p in points)])
    return Roofline(hw, tuple(points), roofs, bandwidth, (x_lo, x_hi), (_decade_below(lowest / 2),
                    _decade_above(highest * 1.5)), len(records) - len(timed))  # fmt: skip


def _decade_below(value: float) -> float:
    return 10.0 ** math.floor(math.log10(value))


def _decade_above(value: float) -> float:
    return 10.0 ** math.ceil(math.log10(value))


def si(value: float, unit: str = "") -> str:
    """``1.5e12`` -> ``1.5 T``; small values keep their decimals (``0.01``)."""
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:.3g} {prefix}{unit}".rstrip()
    return f"{value:.3g} {unit}".rstrip()


def score_colour(score: float | None) -> str:
    """Red at 0 through yellow to green at 1; grey without a score."""
    if score is None:
        return "#8a8a8a"
    return f"hsl({120 * min(max(score, 0.0), 1.0):.0f}, 70%, 42%)"


# ---------------------------------------------------------------- SVG


def roofline_svg(plot: Roofline, standalone: bool = False) -> str:
    """The picture as SVG markup; ``standalone`` adds the XML namespace a .svg file needs (HTML does not)."""
    (x_lo, x_hi), (y_lo, y_hi) = plot.x_range, plot.y_range
    left, right, top, bottom = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    namespace = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    out = [f'<svg{namespace} class="roofline" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
           f'role="img" aria-label="roofline on {escape(plot.hardware.name)}">',
           f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="none" '
           'stroke="#999"/>']  # fmt: skip
    for exponent in range(round(math.log10(x_lo)), round(math.log10(x_hi)) + 1):
        px = plot.x(10.0**exponent)
        out.append(f'<line x1="{px:.1f}" y1="{top}" x2="{px:.1f}" y2="{bottom}" stroke="#eee"/>')
        out.append(f'<text x="{px:.1f}" y="{bottom + 16}" text-anchor="middle" font-size="11">'
                   f'{si(10.0**exponent)}</text>')  # fmt: skip
    for exponent in range(round(math.log10(y_lo)), round(math.log10(y_hi)) + 1):
        py = plot.y(10.0**exponent)
        out.append(f'<line x1="{left}" y1="{py:.1f}" x2="{right}" y2="{py:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{py + 4:.1f}" text-anchor="end" font-size="11">'
                   f'{si(10.0**exponent)}</text>')  # fmt: skip
    out.append(f'<text x="{(left + right) / 2}" y="{HEIGHT - 12}" text-anchor="middle" font-size="12">'
               'arithmetic intensity (FLOP/byte)</text>')  # fmt: skip
    out.append(f'<text transform="translate(16 {(top + bottom) / 2}) rotate(-90)" text-anchor="middle" '
               'font-size="12">achieved FLOP/s</text>')  # fmt: skip
    # The memory slope up to the highest ridge, then each compute roof from its own ridge.
    ridge = plot.roofs[0].peak_flop_s / plot.bandwidth_bytes_s
    start = max(x_lo, y_lo / plot.bandwidth_bytes_s)
    out.append(f'<line x1="{plot.x(start):.1f}" y1="{plot.y(plot.bandwidth_bytes_s * start):.1f}" '
               f'x2="{plot.x(ridge):.1f}" y2="{plot.y(plot.roofs[0].peak_flop_s):.1f}" stroke="#333" stroke-width="2">'
               f'<title>DRAM {si(plot.bandwidth_bytes_s, "B/s")}</title></line>')  # fmt: skip
    label_x = plot.x(start) + 4
    out.append(f'<text x="{label_x:.1f}" y="{plot.y(plot.bandwidth_bytes_s * start) - 6:.1f}" font-size="11" '
               f'>DRAM {si(plot.bandwidth_bytes_s, "B/s")}</text>')  # fmt: skip
    for i, roof in enumerate(plot.roofs):
        x1, py = plot.x(roof.peak_flop_s / plot.bandwidth_bytes_s), plot.y(roof.peak_flop_s)
        dash = "" if i == 0 else ' stroke-dasharray="6 4"'
        out.append(f'<line x1="{x1:.1f}" y1="{py:.1f}" x2="{right}" y2="{py:.1f}" stroke="#333" stroke-width="2"{dash}>'
                   f'<title>{escape(roof.label)}</title></line>')  # fmt: skip
        out.append(f'<text x="{right + 6}" y="{py + 4:.1f}" font-size="11">{escape(roof.label)}</text>')
    if any(p.memory_only for p in plot.points):
        out.append(f'<text x="{plot.x(x_lo * 10**0.5):.1f}" y="{bottom - 6}" text-anchor="middle" font-size="10" '
                   'fill="#555">no FLOPs</text>')  # fmt: skip
    for p in plot.points:
        px, py = plot.x(p.intensity_flop_per_byte), plot.y(p.achieved_flop_s)
        score = "no score" if p.score is None else f"score {p.score:.3f}"
        where = ("no FLOPs" if p.memory_only else
                 f"{si(p.achieved_flop_s, 'FLOP/s')} at {si(p.intensity_flop_per_byte, 'FLOP/B')}")  # fmt: skip
        dram = f"{si(p.achieved_bytes_s, 'B/s')} ({p.achieved_bytes_s / plot.bandwidth_bytes_s:.0%} of DRAM)"
        tip = f"<title>{escape(p.label)}: {where}, {dram}, {score}</title>"
        colour = score_colour(p.score)
        if p.memory_only:
            out.append(f'<path class="point" d="M{px:.1f} {py - 6:.1f}l6 6l-6 6l-6 -6z" fill="{colour}" '
                       f'stroke="#222" data-x="{px:.1f}" data-y="{py:.1f}">{tip}</path>')  # fmt: skip
        else:
            out.append(f'<circle class="point" cx="{px:.1f}" cy="{py:.1f}" r="5" fill="{colour}" stroke="#222" '
                       f'data-x="{px:.1f}" data-y="{py:.1f}">{tip}</circle>')  # fmt: skip
    out.append(f'<text x="{right + 6}" y="{bottom - 62}" font-size="11">SOL Score</text>')
    for i, (value, text) in enumerate(((1.0, "1"), (0.5, "0.5"), (0.0, "0"), (None, "none"))):
        row_y = bottom - 48 + 14 * i
        out.append(f'<circle cx="{right + 12}" cy="{row_y}" r="5" fill="{score_colour(value)}" stroke="#222"/>'
                   f'<text x="{right + 22}" y="{row_y + 4}" font-size="11">{text}</text>')  # fmt: skip
    if plot.left_out:
        out.append(f'<text x="{right}" y="{HEIGHT - 12}" text-anchor="end" font-size="10" fill="#555">'
                   f'{plot.left_out} item(s) not drawn: failed, skipped or not timed</text>')  # fmt: skip
    out.append("</svg>")
    return "\n".join(out)


def write_svg(records: list[ItemResult], hardware: Hardware | str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(roofline_svg(build_roofline(records, hardware), standalone=True), encoding="utf-8")


# ---------------------------------------------------------------- PNG


def write_png(records: list[ItemResult], hardware: Hardware | str, path: Path) -> None:
    """The same picture through matplotlib (``pip install 'pytest-solbench[plot]'``)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise RuntimeError(f"{path}: writing a PNG roofline needs matplotlib: pip install 'pytest-solbench[plot]' "
                           "(or name a .svg file, which needs nothing)") from None  # fmt: skip
    plot = build_roofline(records, hardware)
    from matplotlib import colormaps

    scores = colormaps["RdYlGn"].with_extremes(bad="#8a8a8a")
    fig = Figure(figsize=(8, 5), dpi=150)
    ax = fig.add_subplot()
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*plot.x_range)
    ax.set_ylim(*plot.y_range)
    ridge = plot.roofs[0].peak_flop_s / plot.bandwidth_bytes_s
    ax.plot([plot.x_range[0], ridge], [plot.bandwidth_bytes_s * plot.x_range[0], plot.roofs[0].peak_flop_s],
            color="#333", label=f"DRAM {si(plot.bandwidth_bytes_s, 'B/s')}")  # fmt: skip
    for i, roof in enumerate(plot.roofs):
        ax.plot([roof.peak_flop_s / plot.bandwidth_bytes_s, plot.x_range[1]], [roof.peak_flop_s] * 2, color="#333",
                linestyle="-" if i == 0 else "--", label=roof.label)  # fmt: skip
    drawn = None
    for memory_only, marker in ((False, "o"), (True, "D")):
        chosen = [p for p in plot.points if p.memory_only == memory_only]
        if chosen:
            drawn = ax.scatter([p.intensity_flop_per_byte for p in chosen], [p.achieved_flop_s for p in chosen],
                       c=[p.score if p.score is not None else float("nan") for p in chosen], cmap=scores,
                       vmin=0, vmax=1, marker=marker, edgecolors="#222", zorder=3,
                       label="no FLOPs (height: bandwidth)" if memory_only else None)  # fmt: skip
    if drawn is not None:
        fig.colorbar(drawn, ax=ax, label="SOL Score")
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("achieved FLOP/s")
    ax.set_title(f"roofline on {plot.hardware.name}")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")

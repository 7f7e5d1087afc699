"""``with pytest_solbench.capture("my_problems/"):`` around a model call: record its ops, write them as problems,
rank them in ``capture.md``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pytest_solbench.captures.problems import Family, families, write
from pytest_solbench.captures.ranking import Row, markdown, rank, sol_ms
from pytest_solbench.captures.recorder import CUDA_EVENTS, Counted, Recorder, Recording
from pytest_solbench.data.trace import TraceError, load_problem
from pytest_solbench.sol.hardware import Hardware, identify, lookup


class Capture:
    """What a capture wrote; filled in when its ``with`` block ends.

    ``rows``: the written problems, most time first; ``left_out``: (op, why) -> calls and time of the calls not
    written; ``recording``: every distinct call with its count and time; ``report``: the text of ``capture.md``.
    """

    def __init__(self, root: Path, model: str) -> None:
        self.root, self.model = root, model
        self.recording: Recording | None = None
        self.families: list[Family] = []
        self.rows: list[Row] = []
        self.left_out: dict[tuple[str, str], Counted] = {}
        self.hardware: Hardware | None = None
        self.report = ""

    @property
    def problems(self) -> list[str]:
        """Names of the problems written, most time first."""
        return [row.name for row in self.rows]

    def finish(self, recording: Recording, hardware: str | None) -> None:
        self.recording = recording
        self.hardware = _hardware(hardware, recording)
        timed_on_row = self.hardware is not None and self.hardware == _timed_on(recording)  # else no headroom
        self.left_out = dict(recording.left_out)
        total = recording.total_ms or 1.0
        written, sols = [], {}
        for family in families(recording, self.model):
            path = write(family, self.root, self.model, family.time_ms / total)
            try:
                problem = load_problem(path)  # as the plugin will read it
            except TraceError as exc:  # a call stated wrongly: drop the folder rather than leave a collection error
                shutil.rmtree(path.parent)
                self.left_out[(family.call.aten, f"written as {family.name} but it does not load: {exc}")] = Counted(
                    family.calls, family.time_ms)  # fmt: skip
                continue
            sols[family.name] = sol_ms(problem, family, self.hardware) if self.hardware else None
            written.append(family)
        self.families = written
        self.rows = rank(written, recording, sols, timed_on_row)
        self.report = markdown(self.rows, recording, self.model, self.root, self.hardware, timed_on_row, self.left_out)
        (self.root / "capture.md").write_text(self.report)


def _timed_on(recording: Recording) -> Hardware | None:
    """The hardware row of the GPU the ops were timed on (None on CPU, or a GPU the table does not have)."""
    return identify(recording.cuda_device) if recording.clock == CUDA_EVENTS and recording.cuda_device else None


def _hardware(requested: str | None, recording: Recording) -> Hardware | None:
    """The row T_SOL is computed for: the one asked for, else the GPU the ops ran on (None on CPU)."""
    return lookup(requested) if requested is not None else _timed_on(recording)


@contextmanager
def capture(path: str | Path, model: str = "captured", hardware: str | None = None) -> Iterator[Capture]:
    """Record the ops run inside the block and write each op kind and shape family as a problem under ``path``.

    ``model`` names the problems (``<model>_linear_n4096_k4096_bf16``) and tags them; ``hardware`` is a hardware
    row (``"h100"``, ``"b200"``) to compute T_SOL for, by default the GPU the model ran on. The block's outputs
    are the model's own: nothing is changed. If the block raises, nothing is written. Problem folders of the same
    name (an earlier capture of the same ops) and ``capture.md`` are overwritten; other files are left alone.

        with pytest_solbench.capture("my_problems/", model="my_model") as captured:
            model(inputs)
        print(captured.report)   # also in my_problems/capture.md
    """
    if hardware is not None:
        lookup(hardware)  # an unknown row is the caller's mistake: say so before the model runs
    root = Path(path)
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"{root} is a file: capture writes one folder per problem into a directory")
    result = Capture(root, model)
    recorder = Recorder()
    with recorder:
        yield result
    root.mkdir(parents=True, exist_ok=True)
    result.finish(recorder.recording(), hardware)

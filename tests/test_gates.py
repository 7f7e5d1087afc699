"""Per-PR checks end to end, on a fake GPU: save a run, compare the next one, write every file."""

from __future__ import annotations

import json

import pytest

from conftest import FAST

#: A runner that times each kernel by the samples in speeds.json (edited between runs), baseline 4 us.
RUNNER = '''
import json, pytest
from pytest_solbench.protocol import ItemOutcome, Status

class FakeRunner:
    def call(self, target, request, timeout_s):
        speeds = json.load(open("speeds.json"))
        samples = speeds.get(request.kernel["name"], [0.004] * 12)
        timing = {"samples_ms": samples, "method": "cupti", "median_ms": sorted(samples)[len(samples) // 2]}
        correct = {"max_absolute_error": 0.0, "max_relative_error": 0.0}
        return ItemOutcome(Status.PASSED, correctness=correct if request.rounds else None, kernel_timing=timing)

@pytest.fixture(scope="session")
def solbench_runner():
    return FakeRunner()
'''


@pytest.fixture
def timed(project: pytest.Pytester) -> pytest.Pytester:
    folder = project.path / "kernels"
    folder.mkdir()
    (folder / "mine.py").write_text('DEFINITION = "scale_add_f32"\ndef run(x, y, alpha):\n    return x * alpha + y\n')
    project.makeconftest(RUNNER)
    return project


def run(project: pytest.Pytester, ms: float | list[float], *args: str) -> pytest.RunResult:
    samples = ms if isinstance(ms, list) else [ms] * 12
    (project.path / "speeds.json").write_text(json.dumps({"mine": samples}))
    return project.runpytest(*FAST, "--kernel-dir", "kernels", "--solbench-store", "runs", *args)


def test_a_saved_run_compares_same_and_a_slower_kernel_fails(timed: pytest.Pytester) -> None:
    saved = run(timed, 0.002, "--solbench-save", "main")
    saved.assert_outcomes(passed=2)
    saved.stdout.fnmatch_lines(["run saved to *runs/*/main.json"])
    for _ in range(3):  # the unchanged kernel: never a false alarm
        same = run(timed, 0.002, "--solbench-compare", "main")
        same.assert_outcomes(passed=2)
        same.stdout.fnmatch_lines(["*SAME*"])
    slower = run(timed, 0.0022, "--solbench-compare", "main")  # 10 % slower
    slower.assert_outcomes(failed=2)
    slower.stdout.fnmatch_lines(["SLOWER: 2.2us against 2us in 'main' *1.100x*above the --solbench-max-regression 5%*"])
    within = run(timed, 0.00206, "--solbench-compare", "main")  # 3 % slower, under the 5 % threshold
    within.assert_outcomes(passed=2)
    faster = run(timed, 0.0016, "--solbench-compare")  # a bare --solbench-compare: the latest run
    faster.assert_outcomes(passed=2)
    faster.stdout.fnmatch_lines(["*FASTER*"])


def test_a_run_with_a_kernel_file_not_collected_is_saved_as_partial_beside_the_baseline(
        timed: pytest.Pytester) -> None:  # fmt: skip
    """Issue 20: a run that is not whole (a kernel file that did not parse, an interruption) replaced 'main', the
    baseline every pull request is compared with. It is saved as 'main-partial'; 'main' is left as it was."""
    run(timed, 0.002, "--solbench-save", "main").assert_outcomes(passed=2)
    (timed.path / "kernels" / "broken.py").write_text('DEFINITION = "scale_add_f32"\ndef run(x:\n')
    partial = run(timed, 0.003, "--solbench-save", "main")
    partial.stdout.fnmatch_lines(["run saved to *runs/*/main-partial.json (partial: 1 file could not be collected;*"])
    assert partial.ret != 0
    same = run(timed, 0.002, "--solbench-compare", "main")  # the whole baseline, not the partial run's 3 us
    same.stdout.fnmatch_lines(["*SAME*"])


def test_a_noisy_comparison_is_unclear_not_a_failure(timed: pytest.Pytester) -> None:
    run(timed, 0.002, "--solbench-save", "main").assert_outcomes(passed=2)
    noisy = [0.0015, 0.0031, 0.0019, 0.0027, 0.0016, 0.0030, 0.0020, 0.0026, 0.0018, 0.0029, 0.0021, 0.0025]
    result = run(timed, noisy, "--solbench-compare", "main")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*UNCLEAR*"])


def test_comparing_across_machines_is_refused_unless_forced(timed: pytest.Pytester) -> None:
    run(timed, 0.002, "--solbench-save", "main").assert_outcomes(passed=2)
    other = timed.path / "runs" / "elsewhere.json"
    saved = next((timed.path / "runs").glob("*/main.json"))
    data = json.loads(saved.read_text())
    data["machine"]["gpu"] = "NVIDIA B200"
    other.write_text(json.dumps(data))
    refused = run(timed, 0.002, "--solbench-compare", str(other))
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(["ERROR: --solbench-compare: *gpu*B200*--solbench-compare-force*"])
    run(timed, 0.002, "--solbench-compare", str(other), "--solbench-compare-force").assert_outcomes(passed=2)


def test_missing_saved_run_is_a_usage_error(timed: pytest.Pytester) -> None:
    result = run(timed, 0.002, "--solbench-compare", "nothing-here")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_markdown_html_and_roofline_are_written(timed: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = timed.path / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run(timed, 0.002, "--solbench-save", "main").assert_outcomes(passed=2)
    result = run(timed, 0.002, "--solbench-compare", "main", "--solbench-markdown", "out/summary.md",
                 "--solbench-html", "out/report.html", "--solbench-roofline", "out/roofline.svg")  # fmt: skip
    result.assert_outcomes(passed=2)
    markdown = (timed.path / "out" / "summary.md").read_text()
    assert "scale_add_f32" in markdown and "SAME" in markdown and summary.read_text() == markdown
    html = (timed.path / "out" / "report.html").read_text()
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert (timed.path / "out" / "roofline.svg").read_text().lstrip().startswith("<")
    result.stdout.fnmatch_lines(["markdown summary written to *summary.md and appended to *step_summary.md",
                                 "HTML report written to *report.html", "roofline written to *roofline.svg"])


def test_a_run_with_a_broken_file_reads_failed_in_its_summaries(timed: pytest.Pytester) -> None:
    """A pull request whose new kernel does not parse exits 1 (a collection error), and its comment said
    "**passed**": the summaries' verdict counts what failed the run besides its items, and names the file."""
    (timed.path / "kernels" / "broken.py").write_text('DEFINITION = "scale_add_f32"\ndef run(x, y, alpha)\n')
    result = run(timed, 0.002, "--solbench-markdown", "summary.md", "--solbench-html", "report.html")
    result.assert_outcomes(passed=2, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    markdown = (timed.path / "summary.md").read_text()
    assert "**FAILED**: 2 items passed or skipped; 1 file could not be collected." in markdown
    assert "\n- could not be collected: " in markdown and "broken.py: line 2: syntax error" in markdown
    assert "FAILED: 2 items passed or skipped; 1 file could not be collected." in (timed.path / "report.html").read_text()
    (timed.path / "kernels" / "broken.py").unlink()
    assert "**passed**: 2 items passed" in (run(timed, 0.002, "--solbench-markdown", "summary.md") and
                                            (timed.path / "summary.md").read_text())  # fmt: skip


def test_bad_gate_options_are_usage_errors(timed: pytest.Pytester) -> None:
    for option in (["--solbench-max-regression", "1.5"], ["--solbench-roofline", "r.jpg"]):
        result = timed.runpytest("--solbench", *option)
        assert result.ret == pytest.ExitCode.USAGE_ERROR, option


def test_a_save_that_cannot_be_done_stops_the_run_before_anything_runs(timed: pytest.Pytester) -> None:
    (timed.path / "a_file").write_text("not a folder")
    result = run(timed, 0.002, "--solbench-save", "main", "--solbench-store", "a_file")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # not after a long run: nothing has run yet
    result.stderr.fnmatch_lines(["ERROR: --solbench-save: *a_file: runs cannot be saved there: a folder on that path "
                                 "is a file (--solbench-store DIR names another store)"])  # fmt: skip
    result = run(timed, 0.002, "--solbench-save", "my run")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --solbench-save: run name 'my run': use letters, digits*"])


def test_a_report_path_that_cannot_be_written_stops_the_run_before_anything_runs(timed: pytest.Pytester) -> None:
    (timed.path / "a_file").write_text("not a folder")
    (timed.path / "a_folder").mkdir()
    for option, path, why in (("--solbench-markdown", "a_file/s.md", "a folder on that path is a file"),
                              ("--solbench-html", "a_folder", "it is a folder"),
                              ("--solbench-roofline", "a_file/r.svg", "a folder on that path is a file")):  # fmt: skip
        result = run(timed, 0.002, option, path)
        assert result.ret == pytest.ExitCode.USAGE_ERROR, option
        result.stderr.fnmatch_lines([f"ERROR: {option} *{path}: cannot be written: {why}"])


def test_a_save_that_fails_at_the_end_fails_the_run(timed: pytest.Pytester) -> None:
    # The store was fine at the start and is gone at the end (a full disk, a cleaned folder): the run fails.
    timed.makeconftest(RUNNER + "\nimport os, shutil\n\ndef pytest_runtest_teardown(item):\n"
                       "    if os.path.isdir('store'):\n        shutil.rmtree('store')\n"
                       "        open('store', 'w').write('not a folder')\n")  # fmt: skip
    result = run(timed, 0.002, "--solbench-save", "main", "--solbench-store", "store")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # asked to keep the run, and it was not kept
    result.stdout.fnmatch_lines(["the run was not saved: *store*cannot save the run*"])


def test_a_png_roofline_without_matplotlib_is_a_usage_error(timed: pytest.Pytester) -> None:
    import importlib.util

    if importlib.util.find_spec("matplotlib") is not None:
        pytest.skip("matplotlib is installed here: the PNG is written (test_reports.py::test_png_roofline)")
    result = run(timed, 0.002, "--solbench-roofline", "r.png")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --solbench-roofline *r.png: a PNG needs matplotlib: pip install*"])


def test_save_and_compare_meet_whatever_folder_and_arguments_each_run_from(timed: pytest.Pytester) -> None:
    """The store is at the git top-level by default: a save from the top and a compare from a subfolder with
    other arguments (another rootdir) find each other."""
    import subprocess

    subprocess.run(["git", "init", "-q", str(timed.path)], check=True)
    (timed.path / "speeds.json").write_text(json.dumps({"mine": [0.002] * 12}))
    saved = timed.runpytest(*FAST, "--kernel-dir", "kernels", "--solbench-save", "main")
    saved.assert_outcomes(passed=2)
    saved.stdout.fnmatch_lines([f"run saved to {timed.path}/.solbench/runs/*/main.json"])
    sub = timed.path / "kernels"
    (sub / "speeds.json").write_text(json.dumps({"mine": [0.002] * 12}))
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(sub)
        compared = timed.runpytest(*FAST, "--kernel-dir", ".", "--solbench-problems", "../problems",
                                   "--rootdir", str(sub), "--solbench-compare", "main")  # fmt: skip
    compared.assert_outcomes(passed=2)
    compared.stdout.fnmatch_lines(["*SAME*"])


def test_summary_columns_sort_and_a_plot_of_the_samples(timed: pytest.Pytester) -> None:
    import importlib.util

    plot = ["--solbench-histogram", "out/samples.svg"]
    if importlib.util.find_spec("matplotlib") is None:
        refused = run(timed, 0.002, *plot)
        assert refused.ret == pytest.ExitCode.USAGE_ERROR
        refused.stderr.fnmatch_lines(["ERROR: --solbench-histogram *samples.svg: plotting needs matplotlib: pip*"])
        plot = []
    samples = [0.002, 0.0021, 0.0019, 0.0025, 0.002, 0.0022, 0.0018, 0.002, 0.0021, 0.002, 0.0023, 0.002]
    result = run(timed, samples, "--solbench-columns", "kernel,T_k,min,spread,n,score", "--solbench-sort", "score",
                 *plot)  # fmt: skip
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["  workload  kernel  T_k    min    IQR   n  score",
                                 "  n:1000    mine    2us  1.8us  125ns  12  0.667"])  # fmt: skip
    if plot:
        assert (timed.path / "out" / "samples.svg").read_text().lstrip().startswith("<?xml")
        result.stdout.fnmatch_lines(["timing samples of 2 item(s) plotted to *samples.svg"])
    for option, value in (("--solbench-columns", "kernel,bogus"), ("--solbench-sort", "fastest")):
        bad = timed.runpytest("--solbench", option, value)
        assert bad.ret == pytest.ExitCode.USAGE_ERROR
        bad.stderr.fnmatch_lines([f"ERROR: {option}: unknown column *: choose from workload, kernel, *"])

"""pytest as its users know it: --lf, -k, -m, --markers, -q/-qq, -rs, -v, JUnit XML and usage errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from conftest import FAST, write_kernels

SOLBENCH = [arg for arg in FAST if arg not in ("-p", "no:cacheprovider")]


def test_last_failed_reruns_only_the_failed_item(project: pytest.Pytester) -> None:
    kernels = write_kernels(project.path, ["good_dps.py", "off_by_one.py"])
    project.runpytest(*SOLBENCH, "--kernel-dir", str(kernels)).assert_outcomes(passed=3, failed=1)
    rerun = project.runpytest(*SOLBENCH, "--kernel-dir", str(kernels), "--lf", "-v")
    rerun.assert_outcomes(failed=1)
    rerun.stdout.fnmatch_lines(["run-last-failure: rerun previous 1 failure*", "*scale_add_f32?off_by_one-n:16? FAILED*"])
    first = project.runpytest(*SOLBENCH, "--kernel-dir", str(kernels), "--ff", "--collect-only", "-q")
    assert first.stdout.lines[0].endswith("scale_add_f32[off_by_one-n:16]")


def test_every_id_part_selects_with_k(project: pytest.Pytester) -> None:
    kernels = write_kernels(project.path, ["good_dps.py", "good_value.py"])

    def selected(expression: str) -> int:
        result = project.runpytest(*FAST, "--kernel-dir", str(kernels), "--collect-only", "-q", "-k", expression)
        return result.stdout.str().count("::")

    assert selected("n:16]") == 2  # the workload label, closed so that n:1600 would not match
    assert selected("good_value") == 2 and selected("good_value and n:1000") == 1
    assert selected("scale_add_f32") == 4 and selected("axpy") == 4  # the definition and its op type


def test_op_type_marks_are_known_before_collection(project: pytest.Pytester) -> None:
    result = project.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.axpy: problems of op type axpy (from the data)"])
    project.runpytest(*FAST, "--strict-markers", "-m", "axpy and fp32").assert_outcomes(passed=2)


def test_skips_name_the_item_and_point_at_the_workload_line(project: pytest.Pytester) -> None:
    result = project.runpytest(*FAST, "-rs", "--solbench-cpu-max-elements", "100")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED [[]1] problems/scale_add_f32/workload.jsonl:2: scale_add_f32[[]reference-n:1000]:"
                                 " too large for CPU mode: a tensor of 1,000 elements exceeds*"])  # fmt: skip


def test_quiet_keeps_the_table_and_very_quiet_drops_it(project: pytest.Pytester) -> None:
    quiet = project.runpytest(*FAST, "-q")
    quiet.stdout.fnmatch_lines(["*solbench: speed of light*", "  n:16 *reference*PASSED*", "T_SOL: speed-of-light*"])
    very_quiet = project.runpytest(*FAST, "-qq")
    very_quiet.stdout.no_fnmatch_line("*speed of light*")
    assert very_quiet.ret == 0


def test_min_score_is_not_applied_to_untimed_items(project: pytest.Pytester) -> None:
    result = project.runpytest(*FAST, "--solbench-min-score", "0.9")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["--solbench-min-score 0.9 was not applied: no item has a SOL Score*"])


def test_junit_xml_has_one_short_property_per_figure(project: pytest.Pytester) -> None:
    project.runpytest(*FAST, "--junitxml", "junit.xml").assert_outcomes(passed=2)
    cases = ET.parse(project.path / "junit.xml").getroot().iter("testcase")
    for case in cases:
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert properties["status"] == "PASSED" and float(properties["t_sol_ms"]) > 0
        assert set(properties) <= {"status", "t_k_ms", "t_b_ms", "t_sol_ms", "pct_sol", "score"}
        assert all(len(value) < 40 for value in properties.values())


@pytest.mark.parametrize(
    ("option", "words"),
    [
        (["--solbench-clocks", "bogus"], "--solbench-clocks: expected observe, lock, lock=SM or lock=SM,MEM*"),
        (["--solbench-timer", "stopwatch"], "--solbench-timer 'stopwatch': choose one of cupti, events"),
        (["--solbench-device", "gpu"], "--solbench-device 'gpu': choose one of auto, cuda, cpu"),
        (["--solbench-hardware", "h900"], "--solbench-hardware: *h900*"),
        (["--solbench-rounds", "0"], "--solbench-rounds must be at least 1, got 0"),
    ],
)
def test_bad_options_are_usage_errors(project: pytest.Pytester, option: list[str], words: str) -> None:
    result = project.runpytest("--solbench", *option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {words}"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_without_torch_solbench_stops_with_what_to_install(project: pytest.Pytester) -> None:
    project.makepyfile(no_torch="import sys\nsys.modules['torch'] = None  # as if torch were not installed\n")
    result = project.runpytest_subprocess("-p", "no_torch", "--solbench", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --solbench needs PyTorch, which is not installed*pip install torch*"])


def test_a_skipped_item_never_builds_its_inputs(project: pytest.Pytester) -> None:
    """A workload too large for CPU mode is skipped from its shapes alone, even when its reference cannot run on
    meta tensors (its FLOPs would need real inputs): no input is made, so no memory or time is spent on it."""
    from conftest import SCALE_ADD, write_problem

    needs_data = {**SCALE_ADD, "name": "needs_data"}
    huge = [{"uuid": "huge", "axes": {"n": 50_000_000}, "inputs": {"x": {"type": "random"}, "y": {"type": "random"},
             "alpha": {"type": "scalar", "value": 1.0}}}]  # fmt: skip
    write_problem(project.path / "problems", definition=needs_data, workloads=huge,
                  reference="def run(x, y, alpha):\n    return alpha * x + y * float(y.sum().item() != 0)\n")  # fmt: skip
    project.makeconftest(
        "import pytest_solbench.data.inputs as inputs\n"
        "made = inputs.make_inputs\n"
        "def spy(definition, workload, *args, **kwargs):\n"
        "    open('made.txt', 'a').write(workload.uuid + '\\n')\n"
        "    return made(definition, workload, *args, **kwargs)\n"
        "inputs.make_inputs = spy\n"
        "def pytest_unconfigure(config):\n"
        "    inputs.make_inputs = made  # this run is in-process: leave the module as it was\n"
    )
    result = project.runpytest(*FAST, "-k", "needs_data or scale_add_f32", "-rs")
    result.assert_outcomes(passed=2, skipped=1)
    made = (project.path / "made.txt").read_text().split()
    assert "huge" not in made and set(made) == {"w-16", "w-1000"}


def test_a_reference_with_nan_in_its_output_is_an_error_not_a_pass(project: pytest.Pytester) -> None:
    from conftest import SCALE_ADD, write_problem

    nan_at_3 = "def run(x, y, alpha):\n    out = alpha * x + y\n    out[3] = float('nan')\n    return out\n"
    write_problem(project.path / "problems", definition={**SCALE_ADD, "name": "nan_ref"}, reference=nan_at_3)
    result = project.runpytest(*FAST, "-k", "nan_ref")
    result.assert_outcomes(errors=2)  # the problem's fault, even at n=1000 where one element is within the ratio
    result.stdout.fnmatch_lines(["INVALID_REFERENCE: round 1 (seed *): the reference's output 'out' holds 1 NaN*"])


def test_a_solution_whose_toolchain_is_missing_is_skipped_naming_what_to_install(project: pytest.Pytester) -> None:
    import json

    folder = project.path / "solutions" / "cute"
    folder.mkdir(parents=True)
    (folder / "kernel.py").write_text("import cutlass.cute\ndef run(x, y, alpha):\n    return alpha * x + y\n")
    solution = {"name": "axpy_cute", "definition": "scale_add_f32", "author": "tests",
                "spec": {"languages": ["cute_dsl"], "entry_point": "kernel.py::run", "destination_passing_style": False},
                "sources": [{"path": "kernel.py", "content": ""}]}  # fmt: skip
    (folder / "solution.json").write_text(json.dumps(solution))
    result = project.runpytest(*FAST, "--kernel-dir", str(project.path / "solutions"), "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*axpy_cute is written in cute_dsl, whose module 'cutlass' is not installed: the CuTe "
                                 "DSL: pip install nvidia-cutlass-dsl"])  # fmt: skip

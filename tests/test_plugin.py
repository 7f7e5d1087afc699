"""End to end, as a user runs it: pytester projects on CPU (correctness and bounds; timing needs a GPU)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from conftest import CPU, FAST, KERNELS, SCALE_ADD, WORKLOADS, write_kernels, write_problem

KERNELS_GOOD_DPS = KERNELS["good_dps.py"]

ROOT = Path(__file__).resolve().parents[1]


def test_reference_is_the_kernel_without_kernel_dir(project: pytest.Pytester) -> None:
    result = project.runpytest(*FAST, "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*scale_add_f32?reference-n:16? PASSED*",
            "*solbench: speed of light*",
            "scale_add_f32",
            "  workload  kernel     status     T_SOL  bound",
            "  n:16      reference  PASSED  0.0573ns  memory",
            "  n:1000    reference  PASSED    3.58ns  memory",
            "no SOL Scores: CPU mode checks correctness and computes bounds; timing and scores need a GPU",
        ]
    )


def test_good_kernels_pass_in_both_styles(project: pytest.Pytester) -> None:
    kernels = write_kernels(project.path, ["good_dps.py", "good_value.py"])
    result = project.runpytest(*FAST, "--kernel-dir", str(kernels), "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*scale_add_f32?good_dps-n:16? PASSED*", "*scale_add_f32?good_value-n:1000? PASSED*"])


def test_off_by_one_fails_with_a_compact_message(project: pytest.Pytester) -> None:
    kernels = write_kernels(project.path, ["off_by_one.py", "good_dps.py"])
    result = project.runpytest(*FAST, "--kernel-dir", str(kernels))
    # One wrong element in 16 fails; one in 1000 is within the default 99 % matched ratio (SOL-ExecBench's).
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*INCORRECT_NUMERICAL: round 1 (seed *): output 'out': 1 / 16 elements (6.2%) mismatched, 99% must match*",
            "*max abs error 1 at (3)*",
            "*index*got*expected*",
            "*(3)*",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*tensor(*")


def test_a_cpu_run_with_a_failure_claims_no_suite_score_in_its_files(project: pytest.Pytester) -> None:
    kernels = write_kernels(project.path, ["off_by_one.py", "good_dps.py"])
    result = project.runpytest(*FAST, "--kernel-dir", str(kernels), "--solbench-markdown", "s.md", "--solbench-html",
                               "r.html")  # fmt: skip
    result.assert_outcomes(passed=3, failed=1)
    markdown, html = (project.path / "s.md").read_text(), (project.path / "r.html").read_text()
    assert "**FAILED**: 1 of 4 items failed." in markdown and "Suite SOL Score 0" not in markdown
    assert "**Suite SOL Score**: n/a (not timed)" in markdown and "n/a (not timed)" in html


def test_raising_kernel_fails_only_its_items(project: pytest.Pytester) -> None:
    kernels = write_kernels(project.path, ["raises.py", "good_value.py"])
    result = project.runpytest(*FAST, "--kernel-dir", str(kernels))
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*RUNTIME_ERROR: RuntimeError: boom from the kernel", "*raises.py:4 in run: raise Runtime*"])
    result.stdout.no_fnmatch_line("*execute.py*")


ANSI_KERNELS = {  # red-team round 8, j05: a kernel's words that would redraw the user's terminal
    "ansi_raises.py": 'import sys\nDEFINITION = "scale_add_f32"\n\ndef run(x, y, alpha):\n'
                      '    sys.stderr.write("\\x1b[2J")\n'
                      '    raise RuntimeError(("\\x1b[1A\\x1b[2K" * 3) + "\\r  n:16  ansi_raises  PASSED\\x9b8m\\x07")\n',
    "ansi_dies.py": 'import os, sys\nDEFINITION = "scale_add_f32"\nSOLBENCH_ALLOW = {"file-network-os": "dies", "unlisted-import": "os._exit"}\n\n'
                    'def run(x, y, alpha):\n'
                    '    sys.stderr.write("\\x1b[1A\\x1b[2Kdying\\n")\n    sys.stderr.flush()\n    os._exit(3)\n',
}


def test_a_kernels_control_characters_reach_no_report_raw(project: pytest.Pytester) -> None:
    """Red-team round 8, j05: a kernel's error text, traceback and stderr tail are shown with their control
    characters as visible escapes (``\\x1b``), in the terminal report and in the JSON log alike: raw, they would
    erase the report's lines above and print rows of the kernel's choosing."""
    folder = project.path / "kernels"
    folder.mkdir()
    for name, text in ANSI_KERNELS.items():
        (folder / name).write_text(text)
    result = project.runpytest_subprocess(*CPU, "--solbench-rounds", "2", "--kernel-dir", str(folder), "-rA",
                                          "--solbench-json", "t.jsonl", "-k", "n:16")  # fmt: skip
    result.assert_outcomes(failed=2)
    lines = (project.path / "t.jsonl").read_text().splitlines()
    saved = [json.dumps(json.loads(line), ensure_ascii=False) for line in lines]
    shown = result.stdout.str() + result.stderr.str() + "".join(saved)  # the JSON's strings as they decode
    assert not any(c in shown for c in "\x1b\x9b\x07\r"), shown[-3000:]
    assert "\\x1b[1A\\x1b[2K" in result.stdout.str()  # what it wrote is still there to read, made visible
    assert "\\x9b8m\\x07" in result.stdout.str() and "dying" in result.stdout.str()


def test_broken_kernel_files_fail_cleanly(project: pytest.Pytester) -> None:
    folder = project.path / "kernels"
    folder.mkdir()
    (folder / "syntax.py").write_text('DEFINITION = "scale_add_f32"\ndef run(x, y, alpha:\n')
    (folder / "no_run.py").write_text('DEFINITION = "scale_add_f32"\ndef forward(x, y, alpha):\n    return x\n')
    (folder / "imports.py").write_text('import no_such_module_xyz\nDEFINITION = "scale_add_f32"\ndef run(x, y, alpha):\n    return x\n')
    (folder / "wrong_args.py").write_text('DEFINITION = "scale_add_f32"\ndef run(x):\n    return x\n')
    (folder / "unknown.py").write_text('DEFINITION = "no_such_problem"\ndef run(x):\n    return x\n')
    (folder / "helper.py").write_text("def unrelated():\n    return 1\n")  # no DEFINITION: not a kernel
    (folder / "good_value.py").write_text('DEFINITION = "scale_add_f32"\n\ndef run(x, y, alpha):\n    return x * alpha + y\n')
    result = project.runpytest(*FAST, "--kernel-dir", str(folder))
    result.assert_outcomes(passed=2, failed=6, errors=2)  # the unparsable and the orphan kernel: collection errors
    result.stdout.fnmatch_lines_random(
        [
            "*ERROR collecting kernels/syntax.py*",
            "*syntax.py: line 2: syntax error*",
            "*COMPILE_ERROR*entry point 'run' is missing*",
            "*COMPILE_ERROR*No module named 'no_such_module_xyz'*",
            "*COMPILE_ERROR*run() takes 1 arguments; scale_add_f32 needs 3*",
            "*unknown.py: DEFINITION: no collected problem defines 'no_such_problem'*",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


def test_a_file_no_parser_can_read_is_its_own_collection_error(project: pytest.Pytester) -> None:
    """Red-team round 14, q10: one author's kernel file with a NUL byte (ValueError from the parser) ended the session
    with an INTERNALERROR before any item: no kernel of any author ran, no JSON. Now the session goes on."""
    write_kernels(project.path, ["good_value.py"])
    (project.path / "theirs").mkdir()
    (project.path / "theirs" / "broken.py").write_bytes(b'DEFINITION = "scale_add_f32"\n# \x00\n')
    result = project.runpytest(*FAST, "--kernel-dir", "theirs", "--kernel-dir", "kernels", "--solbench-json", "t.jsonl")
    result.assert_outcomes(passed=2, errors=1)
    # ValueError from the parser on Python 3.11.2, a SyntaxError with no line on 3.11.7 and later
    result.stdout.fnmatch_lines(["*theirs/broken.py: *source code string cannot contain null bytes*"])
    assert "line None" not in result.stdout.str()
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
    assert len((project.path / "t.jsonl").read_text().splitlines()) == 2


def test_a_broken_or_misspelt_kernel_cannot_be_deselected(project: pytest.Pytester) -> None:
    """-k picks items; a kernel that gives none (a syntax error, a misspelt DEFINITION) is a collection error,
    which no -k hides: the run exits 1 with the file and the reason."""
    folder = write_kernels(project.path, ["good_value.py"])
    (folder / "syntax.py").write_text('DEFINITION = "scale_add_f32"\ndef run(x, y, alpha:\n')
    (folder / "typo.py").write_text('DEFINITION = "scale_ad_f32"\ndef run(x, y, alpha):\n    return x\n')
    result = project.runpytest(*FAST, "--kernel-dir", str(folder), "-k", "good_value")
    result.assert_outcomes(passed=2, errors=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines_random([
        "*kernels/syntax.py: line 2: syntax error*",
        "*kernels/typo.py: DEFINITION: no collected problem defines 'scale_ad_f32' (did you mean 'scale_add_f32'?)*",
    ])  # fmt: skip
    # Problems chosen by path too: a kernel for a problem not chosen is out of scope, one for no problem a typo.
    write_problem(project.path / "problems", definition={**SCALE_ADD, "name": "other_f32"})
    (folder / "other.py").write_text('DEFINITION = "other_f32"\ndef run(x, y, alpha):\n    return x\n')
    (folder / "syntax.py").unlink()
    chosen = project.runpytest(*FAST, "--kernel-dir", str(folder), "problems/scale_add_f32")
    chosen.assert_outcomes(passed=2, errors=1)
    assert chosen.ret == pytest.ExitCode.TESTS_FAILED
    chosen.stdout.fnmatch_lines(["*kernels/typo.py: DEFINITION: no problem defines 'scale_ad_f32' (did you mean "
                                 "'scale_add_f32'?)*"])  # fmt: skip


def test_a_kernel_dir_given_through_dot_dot_or_a_hidden_folder_is_searched(project: pytest.Pytester) -> None:
    """Hidden folders below --kernel-dir are skipped, not the path to it: ``--kernel-dir ../kernels`` from a
    subfolder found no kernel (its '..' read as a hidden folder), nor did a folder under ``.cache``."""
    write_kernels(project.path, ["good_value.py"])
    hidden = project.path / ".cache" / "mine"
    hidden.mkdir(parents=True)
    (hidden / "good_dps.py").write_text(KERNELS_GOOD_DPS)
    (hidden / ".skipped").mkdir()
    (hidden / ".skipped" / "stale.py").write_text('DEFINITION = "scale_ad_f32"\ndef run(x):\n    return x\n')
    (project.path / "sub").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project.path / "sub")
        result = project.runpytest(*FAST, "--solbench-problems", "../problems", "--kernel-dir", "../kernels",
                                   "--kernel-dir", "../.cache/mine", "-v")  # fmt: skip
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines_random(["*scale_add_f32?good_value-n:16? PASSED*", "*scale_add_f32?good_dps-n:16? PASSED*"])


def test_kernels_of_one_name_from_two_folders_each_take_their_folders_name(project: pytest.Pytester) -> None:
    """Two --kernel-dir folders each with a good_value.py gave two items of one id, two rows no one could tell apart
    in the table, the trace lines and a saved run; a file given twice (its folder and itself) counts once. When the
    first found ran, a folder listed first took the other's place under its name (red-team round 8, j02); when
    neither ran, one author kept another's kernel from running by naming a kernel like it (round 11, m02). Each now
    runs under its folder's name, and reports tell them apart."""
    mine = write_kernels(project.path, ["good_value.py", "good_dps.py"])
    theirs = project.path / "theirs"
    theirs.mkdir()
    (theirs / "good_value.py").write_text(KERNELS["off_by_one.py"])  # the squatter, listed first
    result = project.runpytest(*FAST, "--kernel-dir", "theirs", "--kernel-dir", "kernels", "--kernel-dir",
                               "kernels/good_value.py", "-v", "--solbench-json", "t.jsonl")  # fmt: skip
    result.assert_outcomes(passed=5, failed=1)  # off by one element: 1 of 1000 is within the matched ratio
    result.stdout.fnmatch_lines_random(["*scale_add_f32?kernels.good_value-n:16? PASSED*",
                                        "*scale_add_f32?theirs.good_value-n:16? FAILED*",
                                        "*scale_add_f32?good_dps-n:16? PASSED*"])  # fmt: skip
    lines = [json.loads(x) for x in (project.path / "t.jsonl").read_text().splitlines()]
    paths = {x["solution"]: x["solbench"]["kernel_path"] for x in lines}
    assert paths == {"good_dps": str(mine / "good_dps.py"), "kernels.good_value": str(mine / "good_value.py"),
                     "theirs.good_value": str(theirs / "good_value.py")}  # fmt: skip


def test_kernels_of_one_name_their_folders_cannot_tell_apart_are_a_collection_error(project: pytest.Pytester) -> None:
    """One folder's good_value.py and its solution.json named good_value (one author), or a qualified name already
    taken: none of them runs, each a collection error naming them all; a kernel of another name still runs."""
    mine = write_kernels(project.path, ["good_value.py", "good_dps.py"])
    (mine / "solution.json").write_text(json.dumps({
        "name": "good_value", "definition": "scale_add_f32",
        "spec": {"languages": ["pytorch"], "entry_point": "main.py::run", "destination_passing_style": False},
        "sources": [{"path": "main.py", "content": KERNELS["off_by_one.py"].replace("out.copy_", "return out.copy_")}]}))
    result = project.runpytest(*FAST, "--kernel-dir", "kernels", "-v")
    result.assert_outcomes(passed=2, errors=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    both = "2 kernels for scale_add_f32 would run as 'kernels.good_value' (*) and their names and folders do not " \
           "tell them apart; none of them runs: rename all but one*"
    result.stdout.fnmatch_lines_random([f"*kernels/good_value.py: file name: {both}",
                                        f"*kernels/solution.json: name: {both}", "*scale_add_f32?good_dps-n:16? PASSED*"])


def test_no_kernel_to_run_says_why_and_fails(project: pytest.Pytester) -> None:
    (project.path / "empty").mkdir()
    empty = project.runpytest(*FAST, "--kernel-dir", "empty")
    assert empty.ret == pytest.ExitCode.USAGE_ERROR
    empty.stderr.fnmatch_lines(["*--kernel-dir *empty: no kernel found there (a kernel is a Python file with*"])
    folder = project.path / "kernels"
    folder.mkdir()
    write_problem(project.path / "problems", definition={**SCALE_ADD, "name": "rmsnorm_h4096"})  # not chosen
    (folder / "other.py").write_text('DEFINITION = "rmsnorm_h4096"\ndef run(x):\n    return x\n')
    chosen = project.runpytest(*FAST, "--kernel-dir", "kernels", "problems/scale_add_f32")
    assert chosen.ret == pytest.ExitCode.TESTS_FAILED
    chosen.stdout.fnmatch_lines(["*kernels: no kernel here solves a collected problem: the kernels name rmsnorm_h4096;"
                                 " the problems collected are scale_add_f32*"])  # fmt: skip


def test_a_problem_path_without_problems_says_why(project: pytest.Pytester) -> None:
    """An empty problem folder, or a problem's reference.py given for the problem, ended in a bare "no tests ran"."""
    (project.path / "empty").mkdir()
    for path, words in [("empty", "*empty: no problem found there (a problem is a folder holding definition.json*"),
                        ("problems/scale_add_f32/reference.py", "*reference.py: not a problem definition (name the "
                         "problem's folder, its definition.json*")]:  # fmt: skip
        result = project.runpytest(*FAST, "--solbench-problems", path)
        assert result.ret == pytest.ExitCode.USAGE_ERROR, path
        result.stderr.fnmatch_lines([f"ERROR: --solbench-problems {words}"])
    assert project.runpytest(*FAST, "--solbench-problems", "problems/scale_add_f32/definition.json").ret == 0


def test_a_definition_missing_outputs_or_with_a_misspelt_axis_is_named(project: pytest.Pytester) -> None:
    no_outputs = {k: v for k, v in SCALE_ADD.items() if k != "outputs"}
    write_problem(project.path / "problems", definition={**no_outputs, "name": "no_out"})
    typo = [{**WORKLOADS[0], "axes": {"num_tokenz": 3}}]
    write_problem(project.path / "problems", definition={**SCALE_ADD, "name": "typo"}, workloads=typo)
    result = project.runpytest(*FAST)
    result.assert_outcomes(passed=2, errors=2)  # the good problem still runs
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines_random([
        "*no_out/definition.json: outputs: required field is missing*",
        "*typo/workload.jsonl: line 1: axes.num_tokenz: unknown axis: typo has no var axis 'num_tokenz' (its var axes: n)*",
    ])  # fmt: skip


def test_solution_json_kernel_with_source_beside_it(project: pytest.Pytester) -> None:
    folder = project.path / "solutions" / "axpy"
    folder.mkdir(parents=True)
    (folder / "main.py").write_text("def axpy(x, y, alpha, out):\n    out.copy_(alpha * x + y)\n")
    solution = {
        "name": "axpy_torch",
        "definition": "scale_add_f32",
        "author": "tests",
        "spec": {"languages": ["pytorch"], "target_hardware": ["LOCAL"], "entry_point": "main.py::axpy",
                 "dependencies": [], "destination_passing_style": True},
        "sources": [{"path": "main.py", "content": ""}],
    }  # fmt: skip
    (folder / "solution.json").write_text(json.dumps(solution))
    result = project.runpytest(*FAST, "--kernel-dir", str(project.path / "solutions"), "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*scale_add_f32?axpy_torch-n:16? PASSED*"])


def test_a_solution_package_imports_its_neighbours_relatively_and_flat(project: pytest.Pytester) -> None:
    """Round 11, m03: a solution of several files whose entry point does ``from .helpers import f`` (as FlashInfer-
    Bench's builder allows: it imports the entry as a module of the sources' package) was a false COMPILE_ERROR. The
    judged run (kernel in a worker of its own, guard on), and a package ``__init__`` and a subfolder besides."""
    folder = project.path / "solutions" / "axpy_pkg"
    (folder / "ops").mkdir(parents=True)
    sources = {
        "__init__.py": "from .main import axpy  # noqa: F401\n",
        "main.py": "from .ops.scale import scale\nfrom flat_helper import add\n\n"
                   "def axpy(x, y, alpha, out):\n    out.copy_(add(scale(x, alpha), y))\n",
        "ops/__init__.py": "# a subpackage\n",
        "ops/scale.py": "def scale(x, alpha):\n    return alpha * x\n",
        "flat_helper.py": "def add(a, b):\n    return a + b\n",
    }  # fmt: skip
    solution = {
        "name": "axpy_pkg", "definition": "scale_add_f32", "author": "tests",
        "spec": {"languages": ["pytorch"], "target_hardware": ["LOCAL"], "entry_point": "main.py::axpy",
                 "dependencies": [], "destination_passing_style": True},
        "sources": [{"path": path, "content": text} for path, text in sources.items()],
    }  # fmt: skip
    (folder / "solution.json").write_text(json.dumps(solution))
    result = project.runpytest(*CPU, "--solbench-rounds", "2", "--kernel-dir", str(project.path / "solutions"), "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*scale_add_f32?axpy_pkg-n:16? PASSED*"])


def test_modules_where_pytest_was_started_never_reach_a_worker(project: pytest.Pytester) -> None:
    """Round 11, m06: a ``json.py`` in the folder pytest was started in (a submission's, say) was imported by every
    worker as it booted, the judge included, and passed a kernel that wrote zeros. Given back to a confined kernel's
    process, the folder's modules were imported by kernels and read by no rule (round 12, n04). No worker has it on
    its path: a kernel imports from its own folder and from what is installed, as under ``pytest`` itself."""
    marker = project.path / "json_ran"
    (project.path / "json.py").write_text(f"open({str(marker)!r}, 'a').write('ran')\n")
    (project.path / "project_helper.py").write_text("def add(a, b):\n    return a + b\n")
    project.syspathinsert()  # as ``python -m pytest`` puts it first
    folder = project.path / "kernels"
    folder.mkdir()
    (folder / "uses_cwd.py").write_text(
        'DEFINITION = "scale_add_f32"\nSOLBENCH_ALLOW = {"unlisted-import": "the project\'s own helper"}\n'
        "from project_helper import add\n\ndef run(x, y, alpha):\n    return add(x * alpha, y)\n")  # fmt: skip
    (folder / "zeros.py").write_text('DEFINITION = "scale_add_f32"\n\ndef run(x, y, alpha):\n    return 0 * x\n')
    result = project.runpytest(*CPU, "--solbench-rounds", "2", "--kernel-dir", str(folder), "-v")
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines_random(["*COMPILE_ERROR*No module named 'project_helper'*", "*zeros-n:16? FAILED*"])
    assert not marker.exists()


def test_a_module_beside_a_kernel_that_it_does_not_import_is_found_by_no_library(project: pytest.Pytester) -> None:
    """Round 12, n11: the kernel's folder was on ``sys.path`` while it was imported, so a ``flint.py`` beside a kernel
    that imported only ``torch._dynamo`` was imported by sympy (its optional ``flint`` backend): code no rule had
    read registered the op the kernel then called. A kernel's folder now yields only the modules the static rules
    followed; ``importlib.util.find_spec`` is what any library's optional import asks (the name built at run time,
    as a library's own: one written in the kernel's source is followed and read)."""
    folder = project.path / "kernels"
    folder.mkdir()
    (folder / "flint_probe_xyz.py").write_text("raise SystemExit('imported')\n")
    (folder / "helper.py").write_text("def add(a, b):\n    return a + b\n")
    (folder / "probes.py").write_text(
        'DEFINITION = "scale_add_f32"\nSOLBENCH_ALLOW = {"unlisted-import": "asks what its folder yields"}\n'
        "import importlib.util\nfrom helper import add\n"
        
        "FOUND = importlib.util.find_spec('_'.join(['flint', 'probe', 'xyz']))\n\n"
        "def run(x, y, alpha):\n    assert FOUND is None, FOUND\n    return add(x * alpha, y)\n")  # fmt: skip
    result = project.runpytest(*CPU, "--solbench-rounds", "2", "--kernel-dir", str(folder), "-v")
    result.assert_outcomes(passed=2)


def test_a_plain_kernel_in_a_package_folder_imports_relatively(project: pytest.Pytester) -> None:
    """Round 12, n05: a kernel file in a folder with an ``__init__.py`` that did ``from .common import f`` was a false
    COMPILE_ERROR; it is imported as a module of that package (whose ``__init__.py`` the rules read too)."""
    folder = project.path / "kernels"
    folder.mkdir()
    (folder / "__init__.py").write_text("SCALE = 1.0\n")
    (folder / "common.py").write_text("def add(a, b):\n    return a + b\n")
    (folder / "rel.py").write_text('DEFINITION = "scale_add_f32"\nfrom .common import add\nfrom . import SCALE\n\n'
                                   "def run(x, y, alpha):\n    return add(x * alpha * SCALE, y)\n")  # fmt: skip
    result = project.runpytest(*CPU, "--solbench-rounds", "2", "--kernel-dir", str(folder), "-v")
    result.assert_outcomes(passed=2)


def test_flashinfer_trace_layout(pytester: pytest.Pytester) -> None:
    write_problem(pytester.path / "dataset", layout="fib")
    result = pytester.runpytest(*FAST, "--solbench-problems", "dataset", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*definitions/axpy/scale_add_f32.json::scale_add_f32?reference-n:16? PASSED*"])


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.update(axes={"n": {"type": "bogus"}}), "axes.n.type"),
        (lambda d: d["inputs"]["x"].update(dtype="float9"), "inputs.x.dtype"),
        (lambda d: d["inputs"]["x"].update(shape=["m"]), "inputs.x.shape"),
        (lambda d: d.update(op_type=["not", "a", "string"], name=None) or d.update(name="broken", axes=7), "axes"),
    ],
)
def test_malformed_problem_is_a_collection_error_naming_file_and_field(pytester: pytest.Pytester, mutate, where) -> None:
    broken = json.loads(json.dumps(SCALE_ADD))
    broken["name"] = "broken"
    mutate(broken)
    broken.setdefault("name", "broken")
    write_problem(pytester.path / "problems", definition=broken)
    write_problem(pytester.path / "problems")
    result = pytester.runpytest(*FAST, "--solbench-problems", "problems")
    result.assert_outcomes(passed=2, errors=1)  # one bad problem does not stop the others (exit 1 all the same)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"*broken/definition.json: {where}: *"])
    result.stdout.no_fnmatch_line("*Traceback*")
    stopped = pytester.runpytest(*FAST, "--solbench-problems", "problems", "-x")
    stopped.assert_outcomes(errors=1)  # -x still stops at the first error


def test_bad_reference_and_workloads_are_collection_errors(pytester: pytest.Pytester) -> None:
    write_problem(pytester.path / "p", definition={**SCALE_ADD, "name": "a"}, reference="def forward(x, y, alpha):\n    return x\n")
    write_problem(pytester.path / "p", definition={**SCALE_ADD, "name": "b"}, workloads=[{"uuid": "u", "axes": {}}])
    (pytester.path / "p" / "c").mkdir()
    (pytester.path / "p" / "c" / "definition.json").write_text("{not json")
    result = pytester.runpytest(*FAST, "--solbench-problems", "p")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines_random(
        [
            "*a/definition.json: reference: defines no top-level function 'run'*",
            "*b/workload.jsonl: line 1: axes.n: missing*",
            "*c/definition.json: line 1: not valid JSON*",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


def test_a_reference_that_raises_quotes_its_line(pytester: pytest.Pytester) -> None:
    """The problem's fault is an error naming the reference's line; it showed '<reference of broken>:2 in run: '
    and no code, though the line is in the problem's files (or its definition's reference string)."""
    write_problem(pytester.path / "p", definition={**SCALE_ADD, "name": "broken"},
                  reference="def run(x, y, alpha):\n    return x.no_such_method() + y\n")  # fmt: skip
    for isolate in ("none", "process"):
        result = pytester.runpytest(*CPU, "--solbench-rounds", "1", "--solbench-problems", "p", "-k", "n:16]",
                                    "--solbench-isolate", isolate)  # fmt: skip
        result.assert_outcomes(errors=1, deselected=1)
        result.stdout.fnmatch_lines(["INVALID_REFERENCE: the reference raised: AttributeError: *no_such_method*",
                                     "  <reference of broken>:2 in run: return x.no_such_method() + y"])  # fmt: skip


def test_ids_and_marks_select_as_users_expect(project: pytest.Pytester) -> None:
    backward = {**SCALE_ADD, "name": "scale_add_backward_bf16", "tags": ["stage:backward"],
                "inputs": {**SCALE_ADD["inputs"], "x": {"shape": ["n"], "dtype": "bfloat16"}}}  # fmt: skip
    write_problem(project.path / "problems", definition=backward, reference="def run(x, y, alpha):\n    return alpha * x.float() + y\n")
    result = project.runpytest(*FAST, "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "problems/scale_add_backward_bf16/definition.json::scale_add_backward_bf16[[]reference-n:16[]]",
            "problems/scale_add_f32/definition.json::scale_add_f32[[]reference-n:1000[]]",
        ]
    )
    assert project.runpytest(*FAST, "--collect-only", "-q", "-m", "bf16").stdout.str().count("::") == 2
    assert project.runpytest(*FAST, "--collect-only", "-q", "-m", "fp32 and not backward").stdout.str().count("::") == 2
    assert project.runpytest(*FAST, "--collect-only", "-q", "-m", "axpy and backward").stdout.str().count("::") == 2
    assert project.runpytest(*FAST, "--collect-only", "-q", "-k", "1000").stdout.str().count("::") == 2
    strict = project.runpytest(*FAST, "--strict-markers", "-m", "fp8 or nvfp4 or forward")
    strict.assert_outcomes(passed=2, deselected=2)


def test_fp8_selects_problems_whose_fp8_tensors_are_outputs(project: pytest.Pytester) -> None:
    quant = {**SCALE_ADD, "name": "quant_to_fp8", "outputs": {"out": {"shape": ["n"], "dtype": "float8_e4m3fn"}}}
    write_problem(project.path / "problems", definition=quant)
    fp8 = project.runpytest(*FAST, "--collect-only", "-q", "-m", "fp8").stdout.str()
    assert fp8.count("::") == 2 and "quant_to_fp8" in fp8
    fp32 = project.runpytest(*FAST, "--collect-only", "-q", "-m", "fp32").stdout.str()
    assert fp32.count("::") == 4  # its inputs' precision still selects it


def test_json_lines_are_flashinfer_traces_written_as_they_come(project: pytest.Pytester) -> None:
    kernels = write_kernels(project.path, ["good_dps.py", "raises.py"])
    result = project.runpytest(*FAST, "--kernel-dir", str(kernels), "--solbench-json", "out/traces.jsonl")
    result.assert_outcomes(passed=2, failed=2)
    lines = [json.loads(x) for x in (project.path / "out" / "traces.jsonl").read_text().splitlines()]
    assert len(lines) == 4
    by = {(x["solution"], x["workload"]["uuid"]): x for x in lines}
    good = by[("good_dps", "w-16")]
    assert good["definition"] == "scale_add_f32"
    assert good["workload"]["inputs"]["alpha"] == {"type": "scalar", "value": 2.0}
    assert good["evaluation"]["status"] == "PASSED"
    assert good["evaluation"]["correctness"]["max_absolute_error"] <= 1e-5
    assert good["solbench"]["t_sol_ms"] > 0 and good["solbench"]["bound"] == "memory"
    assert good["solbench"]["bytes_moved"] == 16 * 4 * 3
    bad = by[("raises", "w-1000")]
    assert bad["evaluation"]["status"] == "RUNTIME_ERROR" and "boom" in bad["evaluation"]["log"]
    assert "correctness" not in bad["evaluation"]


def test_an_unwritable_json_path_is_a_usage_error_before_anything_runs(project: pytest.Pytester) -> None:
    (project.path / "a_file").write_text("not a folder")
    result = project.runpytest(*FAST, "--solbench-json", "a_file/t.jsonl")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # was an INTERNALERROR traceback after the first item
    result.stderr.fnmatch_lines(["ERROR: --solbench-json *a_file/t.jsonl: cannot be written: a folder on that path "
                                 "is a file"])  # fmt: skip
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


def test_without_solbench_nothing_is_imported_collected_or_written(project: pytest.Pytester) -> None:
    project.makeconftest(
        "import sys\n"
        "def pytest_unconfigure(config):\n"
        "    heavy = [m for m in ('torch', 'triton', 'numpy', 'pynvml') if m in sys.modules]\n"
        "    open('heavy.txt', 'w').write(','.join(heavy))\n"
    )
    project.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    # Other installed plugins may import numpy (pytest-benchmark does): compare with a run without this plugin.
    project.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:solbench").assert_outcomes(passed=1)
    without = set(filter(None, (project.path / "heavy.txt").read_text().split(",")))
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--solbench-json", "t.jsonl")
    result.assert_outcomes(passed=1)
    assert set(filter(None, (project.path / "heavy.txt").read_text().split(","))) == without
    assert not (project.path / "t.jsonl").exists()
    assert "solbench:" not in result.stdout.str()


def test_usage_errors_are_not_tracebacks(project: pytest.Pytester) -> None:
    for args, words in [
        (["--kernel-dir", "nowhere"], "--kernel-dir *nowhere: no such file or folder"),
        (["--solbench-rounds", "0"], "--solbench-rounds must be at least 1*"),
        (["--solbench-min-score", "2"], "--solbench-min-score must be between 0 and 1*"),
        (["--solbench-hardware", "z9000"], "--solbench-hardware:*z9000*"),
        (["--solbench-cpu-max-gflop", "0"], "--solbench-cpu-max-gflop must be positive, got 0"),
    ]:
        result = project.runpytest(*FAST, *args)
        assert result.ret == pytest.ExitCode.USAGE_ERROR, args
        result.stderr.fnmatch_lines([f"ERROR: {words}"])
        assert "Traceback" not in result.stderr.str()


def test_cpu_work_budget_skips_the_readme_gemms_an_interpreter_cannot_finish(pytester: pytest.Pytester) -> None:
    """The README's CPU job timed out (600 s) on interpreted GEMMs of 13-15 GFLOP on a loaded machine: CPU mode skips
    workloads whose bound counts more than --solbench-cpu-max-gflop (4 by default), before any worker starts."""
    problem = ROOT / "problems" / "deepseek_v3_fp8_shared_expert_down_proj_n7168_k2048" / "definition.json"
    args = (str(problem), "--solbench", "--solbench-device", "cpu", "--kernel-dir", str(ROOT / "examples"),
            "-p", "no:randomly", "-p", "no:cacheprovider", "-k", "triton_fp8_gemm and num_tokens:512]", "-rs")
    result = pytester.runpytest_subprocess(*args, timeout=300)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*or whose work exceeds 4 GFLOP are skipped*",  # the header
                                 "*too large for CPU mode: 15 GFLOP exceeds --solbench-cpu-max-gflop 4*"])  # fmt: skip


def test_cpu_budget_skips_large_workloads_with_the_reason(project: pytest.Pytester) -> None:
    result = project.runpytest(*FAST, "--solbench-cpu-max-elements", "100", "-rs", "--solbench-json", "t.jsonl")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*too large for CPU mode: a tensor of 1,000 elements exceeds*"])
    lines = {x["workload"]["uuid"]: x for x in map(json.loads, (project.path / "t.jsonl").read_text().splitlines())}
    assert set(lines) == {"w-16", "w-1000"}  # every item, the skipped one too, with its reason
    assert lines["w-1000"]["evaluation"] is None and lines["w-1000"]["solbench"]["status"] == "SKIPPED"
    assert "too large for CPU mode" in lines["w-1000"]["solbench"]["log"]
    assert lines["w-16"]["evaluation"]["performance"] == {}  # untimed on CPU: no latency_ms 0.0


def test_cpu_mode_says_which_gpu_only_options_it_ignores(project: pytest.Pytester) -> None:
    result = project.runpytest(*FAST, "--solbench-profile", "--solbench-clocks", "lock", "--solbench-timer", "events")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["solbench: CPU mode ignores --solbench-profile, --solbench-clocks lock, "
                                 "--solbench-timer events: they act on a GPU's timing"])  # fmt: skip
    project.runpytest(*FAST).stdout.no_fnmatch_line("*CPU mode ignores*")


def test_a_histogram_asked_for_on_cpu_is_ignored_not_a_failure_at_the_end(project: pytest.Pytester) -> None:
    """CPU mode times nothing: --solbench-histogram failed the run after every item had passed."""
    pytest.importorskip("matplotlib", reason="without matplotlib --solbench-histogram is a usage error (test_gates)")
    result = project.runpytest(*FAST, "--solbench-histogram", "samples.svg")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["solbench: CPU mode ignores --solbench-histogram: they act on a GPU's timing",
                                 "*samples.svg: not plotted: CPU mode times nothing"])  # fmt: skip
    assert not (project.path / "samples.svg").exists()


def test_bounds_only_prints_every_workload_without_running(project: pytest.Pytester) -> None:
    folder = write_kernels(project.path, ["raises.py"])
    result = project.runpytest(*CPU, "--kernel-dir", str(folder), "--solbench-bounds-only", "--solbench-hardware", "b200")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*speed-of-light bounds on *B200*", "*scale_add_f32*n:1000*0.012*memory*"])


def test_process_isolation_survives_a_dying_kernel(project: pytest.Pytester) -> None:
    folder = project.path / "kernels"
    folder.mkdir()
    (folder / "dies.py").write_text('import os\nDEFINITION = "scale_add_f32"\nSOLBENCH_ALLOW = {"file-network-os": "dies", '
                                     '"unlisted-import": "dies"}\ndef run(x, y, alpha):\n    os._exit(7)\n')
    (folder / "good_value.py").write_text('DEFINITION = "scale_add_f32"\ndef run(x, y, alpha):\n    return x * alpha + y\n')
    result = project.runpytest(*CPU, "--solbench-rounds", "1", "--kernel-dir", str(folder), "--solbench-json", "t.jsonl")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*RUNTIME_ERROR*exit*7*"])
    statuses = sorted(json.loads(x)["evaluation"]["status"] for x in (project.path / "t.jsonl").read_text().splitlines())
    assert statuses == ["PASSED", "PASSED", "RUNTIME_ERROR", "RUNTIME_ERROR"]


def test_a_hanging_kernel_fails_as_timeout_in_the_user_s_words(project: pytest.Pytester) -> None:
    folder = project.path / "kernels"
    folder.mkdir()
    (folder / "sleeps.py").write_text('import time\nDEFINITION = "scale_add_f32"\n'
                                      'SOLBENCH_ALLOW = {"unlisted-import": "a test kernel that hangs"}\n'
                                      'def run(x, y, alpha):\n    time.sleep(120)\n')  # fmt: skip
    result = project.runpytest(*CPU, "--solbench-rounds", "1", "--kernel-dir", str(folder), "--solbench-timeout", "0.5")
    result.assert_outcomes(failed=2)
    # The judge holds the kernel's process to the limit and says which step did not finish: the call, or on a loaded
    # machine (CI beside other jobs) already the process's start and import, which the item's limit covers too.
    result.stdout.re_match_lines([r".*TIMEOUT: the kernel did not finish (a correctness call|loading) within the "
                                  r"item's 0\.5 s \(--solbench-timeout\); its process was killed.*"] * 2)  # fmt: skip
    result.stdout.no_fnmatch_line("*pytest_solbench.worker*")


def test_items_are_listed_as_they_run_and_printed_ids_run_again_from_elsewhere(pytester: pytest.Pytester) -> None:
    """Each item's id shows while it runs (as -v; -q keeps dots), and an id pasted back from the output runs, even
    from a folder outside the problems (pytest printed it relative to the problem root)."""
    write_problem(pytester.path / "lib")
    work = pytester.path / "work"
    work.mkdir()
    # Problems outside the rootdir (the bundled library, seen from a user's project): pytest prints their ids
    # relative to the problem root, which is no path from here.
    where = ["--solbench-problems", str(pytester.path / "lib"), "--rootdir", str(work)]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        shown = pytester.runpytest(*FAST, *where)
        shown.stdout.fnmatch_lines(["scale_add_f32/definition.json::scale_add_f32[[]reference-n:16[]] PASSED*"])
        quiet = pytester.runpytest(*FAST, *where, "-q")
        quiet.stdout.no_fnmatch_line("*::scale_add_f32*PASSED*")
        printed = [line.split(" ")[0] for line in shown.outlines if "::scale_add_f32[" in line]
        assert printed[1] == "scale_add_f32/definition.json::scale_add_f32[reference-n:1000]"
        again = pytester.runpytest(*FAST, *where, printed[1])
    again.assert_outcomes(passed=1)
    # and it prints the same id again (not '::scale_add_f32[...]'), so its FAILED line and --lf work from there too
    again.stdout.fnmatch_lines(["scale_add_f32/definition.json::scale_add_f32[[]reference-n:1000[]] PASSED*"])


def test_hardware_hook_overrides_the_table(project: pytest.Pytester) -> None:
    project.makeconftest(
        "import dataclasses\n"
        "from pytest_solbench.sol.hardware import lookup\n"
        "def pytest_solbench_hardware(config, device_name):\n"
        "    return dataclasses.replace(lookup('h100_sxm'), key='slow_h100', name='Slow H100', dram_bandwidth_gb_s=1.0)\n"
    )
    result = project.runpytest(*FAST, "--solbench-json", "t.jsonl")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*bounds for Slow H100*"])
    first = json.loads((project.path / "t.jsonl").read_text().splitlines()[0])
    assert first["solbench"]["hardware"] == "slow_h100"
    assert first["solbench"]["t_sol_ms"] == pytest.approx(16 * 4 * 3 / 1e9 * 1e3, rel=1e-6)


def test_workload_tolerance_wins(project: pytest.Pytester) -> None:
    """Its relative L2 bound too: one element off by 1 in 16 is 0.25 of the output's norm, above the default 0.0625."""
    loose = [dict(w, tolerance={"max_atol": 2.0, "max_rtol": 0.0, "max_relative_l2_error": 0.5}) for w in WORKLOADS]
    write_problem(project.path / "problems", workloads=loose)
    kernels = write_kernels(project.path, ["off_by_one.py"])
    project.runpytest(*FAST, "--kernel-dir", str(kernels)).assert_outcomes(passed=2)


#: The examples the plugin runs end to end here: one of each form (DPS and value-returning modules, a Triton and a
#: CUDA solution.json, plain PyTorch). tests/test_library.py checks every example; the GEMMs and the FP8 kernels
#: take seconds per workload in Triton's interpreter, too slow to run on every CPU workload here.
#: The README's main job on CPU, over the examples that run quickly in Triton's interpreter (every example's
#: correctness is checked on its own in test_library.py; the GEMMs take minutes interpreted).
PLUGIN_EXAMPLES = ["triton_rmsnorm.py", "triton_swiglu.py", "rope_solution", "cuda_rmsnorm", "torch_gqa_decode.py"]
CPU_BUDGET = 300_000  # elements of the largest growing tensor: the smaller workloads of each problem


def _expected_outcomes(examples: Path) -> tuple[dict[str, int], set[str]]:
    """What the run must report: every workload of each example's problem, run when it fits the CPU budget and the
    example needs no nvcc, skipped otherwise. Worked out here from the shapes, not with the harness's own facts:
    a tensor grows with the workload when its shape names a var or expr axis."""
    from pytest_solbench.data.discovery import discover
    from pytest_solbench.data.trace import load_problem

    counts, ran = {"passed": 0, "skipped": 0}, set()
    specs, errors = discover([examples])
    assert not errors and len(specs) == len(PLUGIN_EXAMPLES)
    for spec in specs:
        problem = load_problem(Path(__file__).resolve().parent.parent / "problems" / spec.definition / "definition.json")
        d = problem.definition
        growing = {name for name, axis in d.axes.items() if axis.kind != "const"}
        tensors = [t for t in (*d.inputs, *d.outputs) if t.shape and growing & set(t.shape)]
        for workload in problem.workloads:
            largest = max((math.prod(d.shape_of(t, workload.axis_values)) for t in tensors), default=0)
            fits = largest <= CPU_BUDGET and not spec.needs_cuda
            counts["passed" if fits else "skipped"] += 1
            ran |= {spec.name} if fits else set()
    return counts, ran


def test_examples_pass_on_cpu_through_the_plugin(pytester: pytest.Pytester) -> None:
    """Bundled example kernels, checked against the bundled problems, as the README shows."""
    source = Path(__file__).resolve().parent.parent / "examples"
    examples = pytester.path / "examples"
    examples.mkdir()
    for name in PLUGIN_EXAMPLES:
        copy = shutil.copytree if (source / name).is_dir() else shutil.copy
        copy(source / name, examples / name)
    result = pytester.runpytest_subprocess(
        "--solbench", "--solbench-device", "cpu", "--kernel-dir", str(examples), "-p", "no:cacheprovider",
        "--solbench-rounds", "1", "--solbench-cpu-max-elements", str(CPU_BUDGET), "--solbench-isolate", "none",
        "-rs", "--solbench-json", "ex.jsonl",
    )  # fmt: skip
    expected, ran = _expected_outcomes(examples)
    assert ran == {"triton_rmsnorm", "triton_swiglu", "llama3_1_8b_rope_triton"}  # the GQA decode is over budget
    result.assert_outcomes(**expected)
    lines = [json.loads(x) for x in (pytester.path / "ex.jsonl").read_text().splitlines()]
    assert {x["solution"] for x in lines if x["evaluation"] is not None} == ran
    assert len(lines) == sum(expected.values())  # every item, the skipped ones too


def test_more_xdist_workers_than_gpus_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makeconftest("import torch\ntorch.cuda.device_count = lambda: 1  # pretend: one GPU\n")
    result = project.runpytest_subprocess("--solbench", "-p", "no:cacheprovider", "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: -n 2 with 1 visible GPU(s) would time two kernels on one GPU at once*"])


def test_constraints_on_input_values_are_checked_on_the_inputs_made(project: pytest.Pytester) -> None:
    held = {**SCALE_ADD, "name": "held", "constraints": ["x.shape[0] == n", "len(y) == n"]}
    broken = {**SCALE_ADD, "name": "broken", "constraints": ["float(x.abs().max()) > 1e9"]}
    write_problem(project.path / "problems", definition=held)
    write_problem(project.path / "problems", definition=broken)
    result = project.runpytest(*FAST)
    result.assert_outcomes(passed=4, errors=2)  # the problem's fault, not the kernel's
    result.stdout.fnmatch_lines(["INVALID_REFERENCE: the inputs made for this workload break constraint 'float(x.abs().max()) > 1e9'"])


def test_an_xdist_run_prints_the_same_summary_as_one_process_and_writes_one_file(project: pytest.Pytester) -> None:
    kernels = write_kernels(project.path, ["good_dps.py", "good_value.py", "off_by_one.py"])

    def table(*extra: str) -> list[str]:
        result = project.runpytest_subprocess(*FAST, "--kernel-dir", str(kernels), *extra)
        result.assert_outcomes(passed=5, failed=1)
        lines = result.stdout.lines
        start = next(i for i, line in enumerate(lines) if "solbench: speed of light" in line)
        end = next(i for i, line in enumerate(lines) if line.startswith("T_SOL: "))
        return lines[start + 1 : end]

    one = table()
    assert any("off_by_one" in line and "INCORRECT_NUMERICAL" in line for line in one)
    assert table("-n", "2", "--solbench-json", "t.jsonl") == one
    lines = (project.path / "t.jsonl").read_text().splitlines()  # only the controller writes, every item once
    assert len(lines) == 6 and len({json.loads(x)["solbench"]["nodeid"] for x in lines}) == 6


def test_bounds_only_counts_flops_on_real_inputs_when_the_reference_needs_data(project: pytest.Pytester) -> None:
    matmul = {**SCALE_ADD, "name": "data_matmul", "axes": {"n": {"type": "var"}},
              "inputs": {"x": {"shape": ["n", "n"], "dtype": "float32"}, "y": {"shape": ["n", "n"], "dtype": "float32"},
                         "alpha": {"shape": None, "dtype": "float32"}},
              "outputs": {"out": {"shape": ["n", "n"], "dtype": "float32"}}}  # fmt: skip
    reference = "def run(x, y, alpha):\n    return (x @ y) * float(alpha + 0 * y.sum().item())\n"  # .item(): no meta
    sizes = [{"uuid": f"n{n}", "axes": {"n": n}, "inputs": {"x": {"type": "random"}, "y": {"type": "random"},
              "alpha": {"type": "scalar", "value": 1.0}}} for n in (32, 4096)]  # fmt: skip
    write_problem(project.path / "problems", definition=matmul, reference=reference, workloads=sizes)
    result = project.runpytest(*FAST, "--solbench-bounds-only", "-k", "data_matmul", "--solbench-cpu-max-elements",
                               "100000", "--solbench-json", "b.jsonl")  # fmt: skip
    result.assert_outcomes(passed=1, failed=1)  # 4096x4096 is too large to count on the CPU: said, not tried
    result.stdout.fnmatch_lines(["SOL_ERROR: *meta tensors*counting on real inputs was not tried*"])
    counted = json.loads((project.path / "b.jsonl").read_text().splitlines()[0])["solbench"]
    assert counted["flops_by_dtype"] == {"float32": 2 * 32**3}


def test_allowances_are_reported_with_the_result_red_team_round_21_e14(project: pytest.Pytester) -> None:
    """A kernel's written allowance is honoured under the default guard and said with its result: in the record,
    the trace line (``solbench.allowed``) and a note in the terminal summary; strict refuses it and says nothing."""
    kernels = project.path / "kernels"
    kernels.mkdir()
    (kernels / "allowed.py").write_text('import os\nDEFINITION = "scale_add_f32"\n'
                                        'SOLBENCH_ALLOW = {"file-network-os": "reads its tuning switch"}\n'
                                        'FLAG = os.environ.copy()\n\n'
                                        'def run(x, y, alpha):\n    return x * alpha + y\n')  # fmt: skip
    (kernels / "honest.py").write_text(KERNELS["good_value.py"])
    result = project.runpytest(*FAST, "--kernel-dir", str(kernels), "--solbench-json", "t.jsonl")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["allowances in force (SOLBENCH_ALLOW*", "  allowed: file-network-os (reads its "
                                 "tuning switch)"])  # fmt: skip
    result.stdout.no_fnmatch_line("  honest: *")
    lines = [json.loads(x) for x in (project.path / "t.jsonl").read_text().splitlines()]
    assert {x["solution"]: x["solbench"].get("allowed") for x in lines} == {
        "allowed": {"file-network-os": "reads its tuning switch"}, "honest": None}
    strict = project.runpytest(*FAST, "--kernel-dir", str(kernels), "--solbench-guard", "strict")
    strict.assert_outcomes(passed=2, failed=2)
    strict.stdout.no_fnmatch_line("allowances in force*")

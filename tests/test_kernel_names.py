"""A kernel's name is its own: never the problem's reference's, never a path (red-team round 3, c01 and c05)."""

from __future__ import annotations

import functools
import json
import os
import warnings
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import FAST, KERNELS, write_kernels
from pytest_solbench.data import entry_points, kernels
from pytest_solbench.data.discovery import discover, one_per_name, parse_solution
from pytest_solbench.data.schema import TraceError
from pytest_solbench.data.trace import load_problem
from pytest_solbench.protocol import ItemRequest

ROOT = Path(__file__).resolve().parents[1]
RMSNORM = ROOT / "problems" / "llama3_1_8b_rmsnorm_h4096" / "definition.json"


def solution(name: str, path: str = "kernel.py") -> dict:
    return {"name": name, "definition": "scale_add_f32", "spec": {"entry_point": f"{path}::run"},
            "sources": [{"path": path, "content": "def run(x, y, alpha):\n    return x * alpha + y\n"}]}  # fmt: skip


def test_a_kernel_file_or_solution_named_reference_is_refused(tmp_path: Path) -> None:
    """c01: a kernel called reference.py was taken for the problem's reference: no static rule, no tripwire, no
    confinement, the reference's own time."""
    (tmp_path / "reference.py").write_text('DEFINITION = "scale_add_f32"\ndef run(x, y, alpha):\n    return x\n')
    (tmp_path / "solution.json").write_text(json.dumps(solution("reference")))
    found, errors = discover([tmp_path])
    assert found == []
    assert sorted((e.path.name, e.where) for e in errors) == [("reference.py", "file name"), ("solution.json", "name")]
    assert all("the name is the problem's reference's" in e.message for e in errors)


def test_a_kernel_file_whose_name_could_pass_for_another_or_redraw_the_report_is_refused(tmp_path: Path) -> None:
    """Red-team round 9, k01: a kernel's file name is its name in item ids and the report's table; one holding a
    carriage return and escape sequences printed a PASSED row for a wrong kernel, one holding a zero-width space
    showed as an honest kernel's name beside it. A kernel file's name is held to a solution's: a collection error."""
    body = 'DEFINITION = "scale_add_f32"\ndef run(x, y, alpha):\n    return x\n'
    for name in ("triton_rmsnorm\u200b", "wrong\r  PASSED\x1b[8m", "fine-name.v2"):
        (tmp_path / f"{name}.py").write_text(body)
    (tmp_path / "helper with space.py").write_text("X = 1\n")  # no DEFINITION: no kernel, no name to check
    found, errors = discover([tmp_path])
    assert [k.name for k in found] == ["fine-name.v2"]
    assert sorted(e.path.stem for e in errors) == sorted(["triton_rmsnorm\u200b", "wrong\r  PASSED\x1b[8m"])
    assert all(e.where == "file name" and "only letters, digits" in e.message for e in errors)


def test_a_problems_own_reference_py_is_no_kernel(tmp_path: Path) -> None:
    (tmp_path / "reference.py").write_text("def run(x, y, alpha):\n    return alpha * x + y\n")  # no DEFINITION
    assert discover([tmp_path]) == ([], [])


def test_the_reference_is_marked_by_a_flag_never_by_its_name() -> None:
    definition = load_problem(RMSNORM).definition
    reference = kernels.reference_kernel(definition)
    assert reference.is_reference and kernels.KernelSpec.from_payload(reference.to_payload()).is_reference
    named = replace(reference, is_reference=False)  # a user's kernel that got the name past discovery
    assert not named.is_reference and named.name == "reference"

    def tenant(spec: kernels.KernelSpec) -> str:
        return ItemRequest(str(RMSNORM), "w", spec.to_payload(), "cpu", 0, 1, False).tenant

    assert tenant(reference) == "reference" and tenant(named) == f"kernel:reference:{RMSNORM}"


@pytest.mark.parametrize("name", ["/tmp/victim/problems/zz_planted", "../../planted", "a/b", "a b", "", ".hidden/x"])
def test_a_solution_name_that_is_not_a_plain_file_name_is_refused(tmp_path: Path, name: str) -> None:
    """c05: the name made the folder its sources were written to, as root and before confinement."""
    with pytest.raises(TraceError) as info:
        parse_solution(solution(name), tmp_path / "solution.json")
    assert info.value.where == "name" and info.value.path == tmp_path / "solution.json"


def test_sources_are_written_under_the_plugins_folder_by_name_and_hash(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOLBENCH_CACHE_DIR", str(tmp_path / "cache"))
    spec = parse_solution(solution("my.kernel-v2_1"), tmp_path / "solution.json")
    folder = kernels.source_folder(spec)
    assert folder == (tmp_path / "cache").resolve() / "solutions" / f"my.kernel-v2_1-{spec.content_hash()}"
    assert (folder / "kernel.py").is_file()
    for bad in (replace(spec, name="../../escaped"), replace(spec, sources=(("../out.py", "x = 1\n"),))):
        with pytest.raises(kernels.KernelError):  # a spec that never went through discovery: refused all the same
            kernels.source_folder(bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


def test_named_kernels_are_collection_errors_and_the_others_run(project: pytest.Pytester) -> None:
    """c01 and c05 through the plugin: each a collection error naming file and field; nothing is planted."""
    folder = write_kernels(project.path, ["good_value.py"])
    (folder / "reference.py").write_text(KERNELS["good_value.py"])
    planted = project.path / "planted"
    (folder / "solution.json").write_text(json.dumps(solution(str(planted))))
    result = project.runpytest(*FAST, "--kernel-dir", str(folder))
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines_random([
        "*kernels/reference.py: file name: a kernel may not be named 'reference'*",
        "*kernels/solution.json: name: '*planted' may hold only letters, digits*",
    ])  # fmt: skip
    result.stdout.no_fnmatch_line("*Traceback*")
    assert not any(p.name.startswith("planted") for p in project.path.iterdir())


def test_a_source_read_beside_a_solution_never_comes_through_a_link_out_of_its_folder(tmp_path: Path) -> None:
    """Red-team round 7 (h01, h01b): a source with empty content is read from the file beside the JSON with the
    session's rights (root) and handed to the kernel's process; a link there to a root-only file or to
    /proc/self/environ gave a confined kernel what it could not read itself. A link inside the folder is fine."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "kernel.py").write_text("def run(x, y, alpha):\n    return x * alpha + y\n")
    (mine / "tuned.json").symlink_to(secret)
    (mine / "alias.py").symlink_to(mine / "kernel.py")
    data = solution("linked")
    data["sources"] = [{"path": "kernel.py", "content": ""}, {"path": "tuned.json", "content": ""}]
    with pytest.raises(TraceError) as info:
        parse_solution(data, mine / "solution.json")
    assert info.value.where == "sources[1].content" and "leads out of the solution's folder" in info.value.message
    assert "TOP-SECRET" not in info.value.message
    data["sources"] = [{"path": "alias.py", "content": ""}]
    data["spec"]["entry_point"] = "alias.py::run"
    assert "return x * alpha + y" in dict(parse_solution(data, mine / "solution.json").sources)["alias.py"]


def test_a_source_that_is_a_link_loop_is_an_error_of_its_file_not_of_the_session(tmp_path: Path) -> None:
    """Red-team round 7 (i06): a source linked to itself raised from discovery and ended the whole session with an
    INTERNALERROR: no honest kernel of any folder got a verdict."""
    (tmp_path / "kernel.py").write_text("def run(x, y, alpha):\n    return x * alpha + y\n")
    (tmp_path / "tuned.json").symlink_to(tmp_path / "tuned.json")
    data = solution("looped")
    data["sources"] = [{"path": "kernel.py", "content": ""}, {"path": "tuned.json", "content": ""}]
    (tmp_path / "solution.json").write_text(json.dumps(data))
    found, errors = discover([tmp_path])
    assert found == [] and [(e.path.name, e.where) for e in errors] == [("solution.json", "sources[1].content")]


def test_a_refused_file_name_is_printed_with_its_invisible_characters_escaped(project: pytest.Pytester) -> None:
    """Round 9, k01b: the refused name reached the terminal raw in the error's id and message, where escape
    sequences and a carriage return could redraw the report. Every character that prints as nothing is escaped."""
    folder = write_kernels(project.path, ["good_value.py"])
    (folder / "wrong\r  PASSED\x1b[8m\u200b.py").write_text(KERNELS["good_value.py"])
    result = project.runpytest(*FAST, "--kernel-dir", str(folder), "-rE")
    result.assert_outcomes(passed=2, errors=1)
    text = result.stdout.str()
    assert "\x1b" not in text and "\r" not in text and "\u200b" not in text
    result.stdout.fnmatch_lines(["*wrong\\r  PASSED\\x1b[[]8m\\u200b.py*file name*only letters, digits*"])


def test_submissions_in_subfolders_of_one_kernel_dir_each_run_under_their_folders_name(tmp_path: Path) -> None:
    """A grader's ``--kernel-dir submissions/`` with one folder per submission, each solution named alike (round 11,
    m02): each is named for its folder there (a folder name with other characters than letters, digits, '_' and '-'
    gets a digest of it, so that no two folders read alike). A kernel named like such a label runs under its own
    place too: refusing it (round 13, o02) let a pair of folders take another author's dotted name (round 14, q09)."""
    subs = tmp_path / "subs"
    for team in ("team-a", "team b"):
        (subs / team).mkdir(parents=True)
        (subs / team / "solution.json").write_text(json.dumps(solution("rms")))
    found, errors = one_per_name(*discover([subs]), [subs])
    assert sorted(k.name for k in found) == ["team-a.rms", "team_b-8d582b2c4f76.rms"] and errors == []
    (subs / "team-a.rms.json").write_text(json.dumps(solution("team-a.rms")))  # takes a's label
    found, errors = one_per_name(*discover([subs]), [subs])
    assert sorted((k.name, k.path.parent.name) for k in found) == [
        ("subs.team-a.rms", "subs"), ("team-a.rms", "team-a"), ("team_b-8d582b2c4f76.rms", "team b")] and errors == []


def test_a_kernel_file_linked_from_another_folder_is_refused(tmp_path: Path) -> None:
    """Red-team round 13, o09 and o10: a link in one author's folder to another's kernel ran that kernel beside the
    linking folder's own helpers (an INCORRECT verdict under the honest author's name), or passed the other's work off
    as the linker's. A kernel file is found where it lies, or not at all."""
    body = 'DEFINITION = "scale_add_f32"\ndef run(x, y, alpha):\n    return x * alpha + y\n'
    (tmp_path / "team_a").mkdir()
    (tmp_path / "team_b").mkdir()
    (tmp_path / "team_a" / "rms.py").write_text(body)
    (tmp_path / "team_b" / "rms.py").symlink_to(tmp_path / "team_a" / "rms.py")
    (tmp_path / "team_b" / "b_rms.py").symlink_to(tmp_path / "team_a" / "rms.py")
    found, errors = discover([tmp_path / "team_b", tmp_path / "team_a"])
    assert [(k.name, k.path) for k in found] == [("rms", tmp_path / "team_a" / "rms.py")]
    assert sorted(e.path.name for e in errors) == ["b_rms.py", "rms.py"]
    assert all("may not be a link to a file in another folder" in e.message for e in errors)


FINDER = """
import sys
sys.path[:0] = {paths!r}
from pathlib import Path
from pytest_solbench.data import kernels
from pytest_solbench.guard.bundle import kernel_bundle
path = Path(sys.argv[1])
spec = kernels.KernelSpec("k", "p", path, "python", path.name, "run")
package = path.parent if (path.parent / "__init__.py").is_file() else None
try:
    module = kernels._import_file(path, "solbench_kernel_k", package, only=kernel_bundle(spec).files)
    print("ran", module.run())
except Exception as exc:
    print("refused", type(exc).__name__, exc)
"""


def loaded(folder: Path, files: dict[str, str]) -> str:
    """What importing ``folder``'s ``k.py`` (or the first file named) and calling its ``run`` prints, in a fresh
    process as a kernel's worker does, with the finder of the files the static rules read."""
    import subprocess
    import sys

    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    script = FINDER.format(paths=[str(ROOT), *sys.path])
    entry = folder / next(iter(files))
    return subprocess.run([sys.executable, "-c", script, str(entry)], capture_output=True, text=True, timeout=120,
                          check=True).stdout.strip()  # fmt: skip


def test_a_kernels_process_imports_from_its_folder_only_the_files_the_rules_read(tmp_path: Path) -> None:
    """Red-team round 14: a finder of top-level names let a package's ``__path__`` reach any file below it, a
    sourceless ``lib/__pycache__/fast.pyc`` included (q01); and it was taken away once the kernel was imported, so a
    helper imported inside ``run`` was a false RUNTIME_ERROR (h14). It now serves, for the life of the process, the
    files the static rules read and nothing else in the folder, at any depth."""
    import py_compile

    (tmp_path / "src.py").write_text("def rms():\n    return 'vendor'\n")
    py_compile.compile(str(tmp_path / "src.py"), cfile=str(tmp_path / "q01/lib/__pycache__/fast.pyc"), doraise=True)
    q01 = loaded(tmp_path / "q01", {"k.py": "from lib.__pycache__.fast import rms\ndef run():\n    return rms()\n",
                                    "lib/__init__.py": ""})  # fmt: skip
    assert q01.startswith("refused KernelError") and "__pycache__" in q01, q01
    unread = loaded(tmp_path / "unread", {
        "k.py": "import importlib\nimport lib\ndef run():\n    return importlib.import_module('lib.' + 'tsaf'[::-1])\n",
        "lib/__init__.py": "", "lib/fast.py": "raise SystemExit('ran')\n",
    })  # fmt: skip
    assert unread.startswith("refused ModuleNotFoundError") and "not among the files" in unread, unread
    lazy = loaded(tmp_path / "h14", {"k.py": "def run():\n    from helpers import f\n    return f()\n",
                                     "helpers.py": "def f():\n    return 'helped'\n",
                                     "flint_x.py": "raise SystemExit('ran')\n"})  # fmt: skip
    assert lazy == "ran helped", lazy
    probe = loaded(tmp_path / "probe", {"k.py": "import importlib.util\ndef run():\n    return "
                                        "importlib.util.find_spec('flint' + '_x')\n",
                                        "flint_x.py": "raise SystemExit('ran')\n"})  # fmt: skip
    assert probe == "ran None", probe
    relative = loaded(tmp_path / "rel", {"k.py": "import importlib\ndef run():\n    return importlib.import_module("
                                         "'.impl', __package__).NAME\n", "__init__.py": "", "impl.py": "NAME = 1\n"})
    assert relative == "ran 1", relative  # a name in a string, relative to the package, is read and served


def test_a_kernel_file_in_a_package_folder_whose_stem_is_no_identifier_loads(tmp_path: Path) -> None:
    """Red-team round 14, h23: a package folder's ``rms_v1.2.py`` was imported as the dotted ``pkg.rms_v1.2``, a
    COMPILE_ERROR; the same file in a plain folder passed. It loads under a name made of its stem."""
    found = loaded(tmp_path / "pkg", {"rms_v1.2.py": "from .parts import f\ndef run():\n    return f()\n",
                                      "__init__.py": "", "parts.py": "def f():\n    return 'parts'\n"})  # fmt: skip
    assert found == "ran parts", found


def test_bytecode_written_for_a_file_the_rules_read_never_runs_in_its_place(tmp_path: Path) -> None:
    """Red-team round 18, u01 and u01b: a ``.pyc`` written where the import system looks for a helper's bytecode
    (an unchecked hash-based one, or a timestamp one whose header copies the source's mtime and size) ran in place
    of the source the rules read. The kernel's modules are compiled from their source, never from bytecode."""
    import importlib.util
    import os
    import py_compile
    import subprocess
    import sys

    for mode in (py_compile.PycInvalidationMode.UNCHECKED_HASH, py_compile.PycInvalidationMode.TIMESTAMP):
        folder = tmp_path / mode.name
        folder.mkdir()
        helper, forged = folder / "helper.py", tmp_path / f"forged_{mode.name}.py"
        helper.write_text("VALUE = 'honest'\n")
        forged.write_text("VALUE = 'forged'\n")  # the same size
        stat = os.stat(helper)
        os.utime(forged, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        py_compile.compile(str(forged), cfile=importlib.util.cache_from_source(str(helper)), doraise=True,
                           invalidation_mode=mode)  # fmt: skip
        plain = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(folder)!r}); "
                                "import helper; print(helper.VALUE)"], capture_output=True, text=True, check=True)
        assert plain.stdout.strip() == "forged"  # the standard loader runs the planted bytecode
        found = loaded(folder, {"k.py": "import helper\ndef run():\n    import helper as h\n    return h.VALUE\n"})
        assert found == "ran honest", (mode, found)


SOLUTION = """
import sys
sys.path[:0] = {paths!r}
from pathlib import Path
from pytest_solbench.data import kernels
sources = (("kernel.py", {kernel!r}), ("helper.py", "VALUE = 'listed'\\n"))
spec = kernels.KernelSpec("sol", "p", Path("solution.json"), "python", "kernel.py", "run", sources, False)
fn, dps = kernels.load(spec, None)
print(dps, fn())
"""


def test_a_solutions_folder_serves_only_its_listed_sources(tmp_path: Path) -> None:
    """Red-team round 18, u02: a solution's folder (the kernel user's, in its private temp) was a package whose
    ``__path__`` found any file, so a ``late.py`` the kernel wrote there at run time was imported. Its listed
    sources alone are served now, each compiled from the solution's text."""
    import subprocess
    import sys

    kernel = ("import os\nfrom . import helper\n\ndef run():\n"
              "    with open(os.path.join(os.path.dirname(__file__), 'late.py'), 'w') as f:\n"
              "        f.write('VALUE = 1')\n    import helper as flat\n    try:\n        from . import late\n"
              "    except ImportError as exc:\n        return helper.VALUE, flat.VALUE, type(exc).__name__\n"
              "    return 'imported', late.VALUE\n")  # fmt: skip
    script = SOLUTION.format(paths=[str(ROOT), *sys.path], kernel=kernel)
    env = {**os.environ, "SOLBENCH_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip() == "False ('listed', 'listed', 'ImportError')", done.stdout + done.stderr


def test_an_entry_point_taking_args_is_read_through_its_wrapper_or_its_forward() -> None:
    """Red-team round 18, fv1: a plain decorator's ``wrapper(*args)`` (no functools.wraps) and ``run = RMSNorm()``
    (an nn.Module) were taken for destination-passing and failed with a TypeError. The wrapped function's and
    ``forward``'s parameters tell; where none does, a COMPILE_ERROR names the fix."""
    import torch

    definition = load_problem(ROOT / "problems" / "llama3_1_8b_rmsnorm_h4096" / "definition.json").definition
    spec = kernels.KernelSpec("k", definition.name, Path("k.py"), "python", "k.py", "run")

    def plain(fn):
        def wrapper(*args):
            return fn(*args)
        return wrapper

    class Norm(torch.nn.Module):
        def forward(self, x, w):
            return x

    class NormInto(torch.nn.Module):
        def forward(self, x, w, out):
            out.copy_(x)

    def returns(x, w):
        return x

    def writes(x, w, out):
        out.copy_(x)

    assert entry_points.destination_passing(plain(returns), definition, spec) is False
    assert entry_points.destination_passing(plain(plain(writes)), definition, spec) is True
    assert entry_points.destination_passing(Norm(), definition, spec) is False
    assert entry_points.destination_passing(NormInto(), definition, spec) is True
    with pytest.raises(kernels.KernelError, match="takes \\*args") as error:
        entry_points.destination_passing(lambda *args: args[0], definition, spec)
    assert error.value.status == "COMPILE_ERROR"
    declared = replace(spec, destination_passing=False)
    assert entry_points.destination_passing(lambda *args: args[0], definition, declared) is False


def test_an_entry_point_that_is_an_operator_of_the_authors_own_is_read_by_its_schema() -> None:
    """Red-team round 54, db FV-1 and FV-2: ``run`` a ``torch.library.custom_op`` or ``torch.ops.<ns>.<op>`` (its
    ``__call__`` takes ``*args``) was a COMPILE_ERROR; the operator's schema tells, an output it mutates included."""
    import torch

    definition = load_problem(ROOT / "problems" / "llama3_1_8b_rmsnorm_h4096" / "definition.json").definition
    spec = kernels.KernelSpec("k", definition.name, Path("k.py"), "python", "k.py", "run")

    @torch.library.custom_op("solbench_test::returns", mutates_args=(), schema="(Tensor x, Tensor w) -> Tensor")
    def returns(x, w):  # annotations are strings in this file: the schema is given
        return x.clone()

    @torch.library.custom_op("solbench_test::writes", mutates_args=("out",),
                             schema="(Tensor x, Tensor w, Tensor(a!) out) -> ()")  # fmt: skip
    def writes(x, w, out):
        out.copy_(x)

    assert entry_points.destination_passing(returns, definition, spec) is False
    assert entry_points.destination_passing(writes, definition, spec) is True
    assert entry_points.destination_passing(torch.ops.solbench_test.returns, definition, spec) is False
    assert entry_points.destination_passing(torch.ops.solbench_test.writes.default, definition, spec) is True
    # round 55, de FV-1 to FV-5: through a decorator, a partial, a packet with an .out overload, TorchScript
    assert entry_points.destination_passing(torch.no_grad()(writes), definition, spec) is True
    assert entry_points.destination_passing(functools.partial(torch.ops.solbench_test.returns.default),
                                            definition, spec) is False  # fmt: skip
    torch.library.define("solbench_test::returns.out", "(Tensor x, Tensor w, *, Tensor(a!) out) -> Tensor(a!)")
    assert entry_points.destination_passing(torch.ops.solbench_test.returns, definition, spec) is False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13 deprecates TorchScript; kernels still use it
        scripted = torch.jit.script(_scripted_norm)
    assert entry_points.destination_passing(scripted, definition, spec) is False


def _scripted_norm(x, w):  # a top-level function: what torch.jit.script compiles
    return x * w


def test_package_and_lazy_import_lookalikes_pass_through_the_plugin(pytester: pytest.Pytester) -> None:
    """Red-team round 14's honest kernels: a helper imported inside ``run`` (h14), an author's bench script, checks
    and Jupyter checkpoints in a package kernel's folder or a helper package (h15, h25), a package folder's
    ``rms_v1.2.py`` (h23): each PASSED, run in confined workers."""
    import shutil

    folders = ["lazy_import", "pkg_with_tests", "dotted_pkg"]
    args = []
    for name in folders:
        shutil.copytree(ROOT / "tests" / "lookalikes" / name, pytester.path / name)
        args += ["--kernel-dir", str(pytester.path / name)]
    result = pytester.runpytest_subprocess(str(RMSNORM), "--solbench", "--solbench-device", "cpu", *args, "-p",
                                           "no:randomly", "-p", "no:cacheprovider", "--solbench-rounds", "2", "-k",
                                           "num_tokens:7]", "--solbench-json", "t.jsonl", timeout=1800)  # fmt: skip
    lines = [json.loads(x) for x in (pytester.path / "t.jsonl").read_text().splitlines()]
    got = {x["solution"]: x["solbench"]["status"] for x in lines}
    assert got == {"lazy_import": "PASSED", "pkg_with_tests": "PASSED", "dotted_pkg.rms_v1.2": "PASSED"}, result.stdout.str()[-3000:]


@pytest.mark.parametrize("body", [
    b'DEFINITION = "scale_add_f32"\n# a NUL \x00 here\n',  # ValueError from ast.parse on Python 3.11
    b'DEFINITION = "scale_add_f32"\nx = ' + b"-" * 100_000 + b"1\n",  # MemoryError: nesting too deep
    b'DEFINITION = "scale_add_f32"\nNOTE = "\xff not UTF-8"\n',
], ids=["nul", "deep", "not-utf8"])  # fmt: skip
def test_one_unparsable_kernel_file_is_its_own_error_and_the_others_are_found(tmp_path: Path, body: bytes) -> None:
    """Red-team round 14, q10: one author's file holding DEFINITION and a NUL byte raised ValueError out of
    discovery: an INTERNALERROR, no kernel of any author ran, no JSON. Now it is a collection error of that file."""
    (tmp_path / "team_a").mkdir()
    (tmp_path / "team_b").mkdir()
    (tmp_path / "team_a" / "rms.py").write_text('DEFINITION = "scale_add_f32"\ndef run(x, y, alpha):\n    return x\n')
    (tmp_path / "team_b" / "broken.py").write_bytes(body)
    found, errors = discover([tmp_path / "team_b", tmp_path / "team_a"])
    assert [k.path for k in found] == [tmp_path / "team_a" / "rms.py"]
    assert [e.path for e in errors] == [tmp_path / "team_b" / "broken.py"]


def test_a_solution_whose_content_breaks_a_reader_is_its_own_error_or_no_solution(tmp_path: Path) -> None:
    """q10's second form: a source path holding a NUL, with no content, raised ValueError from the file read beside
    the JSON. A JSON file too deep or with a number too long to read is no solution (as a file that is not JSON)."""
    data = solution("nul")
    data["sources"] = [{"path": "k\u0000.py", "content": ""}]
    data["spec"]["entry_point"] = "k\u0000.py::run"
    (tmp_path / "solution.json").write_text(json.dumps(data))
    data = solution("listed")
    data["sources"][0]["content"] = ["not", "text"]  # reached the static rules' parser: a traceback in the item
    (tmp_path / "listed.json").write_text(json.dumps(data))
    (tmp_path / "deep.json").write_text('{"definition": "x", "spec": {}, "sources": ' + "[" * 100_000 + "]" * 100_000 + "}")
    (tmp_path / "long.json").write_text('{"definition": "x", "spec": {}, "sources": ' + "1" * 5000 + "}")
    (tmp_path / "rms.py").write_text('DEFINITION = "scale_add_f32"\ndef run(x, y, alpha):\n    return x\n')
    found, errors = discover([tmp_path])
    assert [k.name for k in found] == ["rms"]
    assert sorted((e.path.name, e.where) for e in errors) == [("listed.json", "sources[0].content"),
                                                              ("solution.json", "sources[0].path")]


def _kernel(path: Path, definition: str = "scale_add_f32") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'DEFINITION = "{definition}"\ndef run(x, y, alpha):\n    return x\n')


def _labels(dirs: list[Path]) -> tuple[dict[str, Path], list[tuple[Path, str]]]:
    found, errors = one_per_name(*discover(dirs), dirs)
    return {k.name: k.path for k in found}, sorted((e.path, e.where) for e in errors)


@pytest.mark.parametrize("form", ["one kernel-dir", "one each"])
def test_one_authors_folders_never_take_or_block_another_authors_kernel(tmp_path: Path, form: str) -> None:
    """Red-team round 14, q02, q06, q09, each in the grader's one folder and as one --kernel-dir per author.
    q02: B's ``x.y/`` and ``x_y/`` both read ``x_y``: every ``rmsnorm``, A's too, was refused. q06: B's
    ``team_b/team_a/rmsnorm.py`` was labelled ``team_a.rmsnorm``, A's folder name. q09: B's ``rms_v1/2.py`` beside
    ``zz/2.py`` ran as ``rms_v1.2`` and A's own ``rms_v1.2.py`` was refused. A label now starts with its
    submission's folder, folders read alike never, and A's kernels run under their own names or A's folder."""
    a, b = tmp_path / "subs" / "team_a", tmp_path / "subs" / "team_b"
    for path in (a / "rmsnorm.py", b / "x.y" / "rmsnorm.py", b / "x_y" / "rmsnorm.py",  # q02
                 a / "rms.py", b / "rms_x.py", b / "team_a" / "rms.py",  # q06 (B's rms_x.py: B's own name)
                 a / "rms_v1.2.py", b / "rms_v1" / "2.py", b / "zz" / "2.py"):  # q09  # fmt: skip
        _kernel(path)
    dirs = [tmp_path / "subs"] if form == "one kernel-dir" else [b, a]
    labels, errors = _labels(dirs)
    assert errors == []
    assert labels == {"team_a.rmsnorm": a / "rmsnorm.py", "team_b.x_y-0ae4ca44669e.rmsnorm": b / "x.y" / "rmsnorm.py",
                      "team_b.x_y.rmsnorm": b / "x_y" / "rmsnorm.py", "team_a.rms": a / "rms.py",
                      "team_b.team_a.rms": b / "team_a" / "rms.py", "rms_x": b / "rms_x.py",
                      "team_a.rms_v1.2": a / "rms_v1.2.py", "team_b.rms_v1.2": b / "rms_v1" / "2.py",
                      "team_b.zz.2": b / "zz" / "2.py"}  # fmt: skip


def test_only_the_kernels_one_folder_gives_one_label_are_refused(tmp_path: Path) -> None:
    """Where one author's own files give one label (``x/y.rms.py`` and ``x/y/rms.py``; a module and a solution.json
    of one name in one folder), those are refused, and only those: the other author's kernel of that name runs."""
    a, b = tmp_path / "team_a", tmp_path / "team_b"
    for path in (a / "rms.py", a / "y.rms.py", b / "x" / "y.rms.py", b / "x" / "y" / "rms.py", b / "rms.py",
                 b / "x" / "rms.py"):  # fmt: skip
        _kernel(path)
    (b / "solution.json").write_text(json.dumps({**solution("rms"), "definition": "scale_add_f32"}))
    labels, errors = _labels([a, b])
    assert labels == {"team_a.rms": a / "rms.py", "team_a.y.rms": a / "y.rms.py", "team_b.x.rms": b / "x" / "rms.py"}
    assert errors == [(b / "rms.py", "file name"), (b / "solution.json", "name"), (b / "x" / "y" / "rms.py", "file name"),
                      (b / "x" / "y.rms.py", "file name")]  # fmt: skip


def test_two_kernel_dirs_of_one_name_are_told_apart_by_their_place_on_the_command_line(tmp_path: Path) -> None:
    """Two graders' ``submissions/``: each label says which one, and a folder given twice, or a file in it beside
    it, is the same folder."""
    one, two = tmp_path / "1" / "subs", tmp_path / "2" / "subs"
    _kernel(one / "rms.py")
    _kernel(two / "rms.py")
    _kernel(two / "other.py")
    labels, errors = _labels([one, two, one / "rms.py", two])
    assert labels == {"subs-1.rms": one / "rms.py", "subs-2.rms": two / "rms.py", "other": two / "other.py"}
    assert errors == []
    labels, _ = _labels([one, one / "rms.py", two / "other.py"])
    assert labels == {"rms": one / "rms.py", "other": two / "other.py"}


def test_a_pair_of_folders_no_longer_takes_another_authors_dotted_name(project: pytest.Pytester) -> None:
    """Round 14, q09 through the plugin, in the grader's one folder: A's ``rms_v1.2.py`` was a collection error and
    B's wrong ``rms_v1/2.py`` was reported as ``rms_v1.2``. Each label in the ids and the JSON is now its own."""
    subs = project.path / "subs"
    for path, body in ((subs / "team_a" / "rms_v1.2.py", KERNELS["good_value.py"]),
                       (subs / "team_b" / "rms_v1" / "2.py", KERNELS["off_by_one.py"]),
                       (subs / "team_b" / "zz" / "2.py", KERNELS["good_dps.py"])):  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    result = project.runpytest(*FAST, "--kernel-dir", "subs", "-v", "--solbench-json", "t.jsonl")
    result.assert_outcomes(passed=5, failed=1)  # off by one element: 1 of 1000 is within the matched ratio
    result.stdout.fnmatch_lines_random(["*scale_add_f32?team_a.rms_v1.2-n:16? PASSED*",
                                        "*scale_add_f32?team_b.rms_v1.2-n:16? FAILED*"])  # fmt: skip
    lines = [json.loads(x) for x in (project.path / "t.jsonl").read_text().splitlines()]
    assert {x["solution"]: x["solbench"]["kernel_path"] for x in lines} == {
        "team_a.rms_v1.2": str(subs / "team_a" / "rms_v1.2.py"), "team_b.rms_v1.2": str(subs / "team_b" / "rms_v1" / "2.py"),
        "team_b.zz.2": str(subs / "team_b" / "zz" / "2.py")}  # fmt: skip


def test_a_folder_named_like_another_folders_label_part_takes_nothing(tmp_path: Path) -> None:
    """Red-team round 15, r02: B's folder ``alice_smith-faead1`` is what ``alice.smith`` read as (a 6-digit digest,
    which a search over one-character variants of a name matches in seconds): both ``rmsnorm.py`` were refused. A
    plain name that looks like a read one is read too, and the digest is 12 hex digits (48 bits)."""
    import hashlib

    subs = tmp_path / "subs"
    alice = subs / "alice.smith"
    short = "alice_smith-" + hashlib.sha1(b"alice.smith").hexdigest()[:6]
    long = "alice_smith-" + hashlib.sha1(b"alice.smith").hexdigest()[:12]
    for folder in (alice, subs / short, subs / long):
        _kernel(folder / "rmsnorm.py")
    labels, errors = _labels([subs])
    assert errors == []
    assert labels[f"{long}.rmsnorm"] == alice / "rmsnorm.py"
    assert len(labels) == 3 and all(label.count(".") == 1 for label in labels)


def test_a_subfolder_named_like_the_kernel_dir_takes_nothing_from_a_kernel_lying_in_it(tmp_path: Path) -> None:
    """Red-team round 15, r05: a kernel lying in the --kernel-dir itself is placed under that folder's name, and a
    subfolder of that name gave the same label (``kernels/rms.py`` and ``kernels/kernels/rms.py``): both were
    refused. A first-level subfolder read like the --kernel-dir is read another way; the kernel in the folder keeps
    its label."""
    for root in (tmp_path / "kernels", tmp_path / "my.kernels"):
        _kernel(root / "rms.py")
        _kernel(root / root.name / "rms.py")
        _kernel(root / "other" / root.name / "rms.py")  # deeper down: the first part already tells it apart
        labels, errors = _labels([root])
        assert errors == [] and len(labels) == 3, (labels, errors)
        assert {path: label for label, path in labels.items()}[root / "rms.py"].split(".")[0] != \
            {path: label for label, path in labels.items()}[root / root.name / "rms.py"].split(".")[0]
    labels, _ = _labels([tmp_path / "kernels"])
    assert labels["kernels.rms"] == tmp_path / "kernels" / "rms.py"


def test_a_dotted_kernel_name_never_reads_as_another_folders_place(tmp_path: Path) -> None:
    """Red-team round 15, r03: B's ``team_b/team_a.rms.py`` kept its own name ``team_a.rms``, which reads as A's
    folder and A's kernel, while A's ``team_a/rms.py`` (the only ``rms``) kept the bare ``rms``: B's wrong kernel was
    reported under A's name. A kernel whose name holds a ``.`` before which stands what a place label may start with
    (a first-level folder of its --kernel-dir, that folder's own part, or a --kernel-dir's part) runs under its
    place, and since round 16 (s08, s09) every dotted name does: ``rms_v1.2`` is ``team_a.rms_v1.2``."""
    subs = tmp_path / "subs"
    a, b = subs / "team_a", subs / "team_b"
    for path in (a / "rms.py", b / "team_a.rms.py", b / "subs.rms2.py", a / "rms_v1.2.py", b / "lib" / "x.py",
                 subs / "alice.smith" / "rms3.py", b / "alice.smith.rms3.py"):  # fmt: skip
        _kernel(path)
    for dirs in ([subs], [b, a]):
        labels, errors = _labels(dirs)
        assert errors == []
        assert labels["rms"] == a / "rms.py" and labels["team_a.rms_v1.2"] == a / "rms_v1.2.py"
        assert labels["team_b.team_a.rms"] == b / "team_a.rms.py"
        assert "team_a.rms" not in labels
    labels, _ = _labels([subs])
    assert labels["team_b.subs.rms2"] == b / "subs.rms2.py"  # the --kernel-dir's own part: a kernel lying in it
    assert labels["team_b.alice.smith.rms3"] == b / "alice.smith.rms3.py"  # a folder's own name, not only its part


def test_every_dotted_kernel_name_runs_under_its_place_red_team_round_16(tmp_path: Path) -> None:
    """s08, s09: the dotted names placed were only those starting like a first-level folder or a --kernel-dir, so
    B's ``submissions/bob/alice.rms.py`` still read as ``alice.rms`` beside ``submissions/alice/rms.py`` when the
    kernel-dirs were several or the authors' folders lay deeper. Every dotted name now runs under its place."""
    for path in (tmp_path / "submissions" / "alice" / "rms.py", tmp_path / "submissions" / "bob" / "alice.rms.py",
                 tmp_path / "baselines" / "base.py", tmp_path / "round1" / "subs" / "carol" / "rms.py",
                 tmp_path / "round1" / "subs" / "dave" / "carol.rms.py"):  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(KERNELS["good_value.py"])
    labels, errors = _labels([tmp_path / "submissions", tmp_path / "baselines"])
    assert errors == [] and "alice.rms" not in labels and labels["rms"] == tmp_path / "submissions" / "alice" / "rms.py"
    assert [label for label in labels if label.endswith("alice.rms")] == ["submissions.bob.alice.rms"]
    labels, errors = _labels([tmp_path / "round1"])
    assert errors == [] and "carol.rms" not in labels
    assert all("." not in label or label.startswith("subs.") for label in labels), labels

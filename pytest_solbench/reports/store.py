"""Saved runs: one JSON file per run under ``<store>/<machine slug>/<name>.json``, for comparing later runs.

A run is comparable only with runs of the same machine: the GPU, its driver, the clock state (observed or locked
at given clocks) and the torch/triton/CUDA versions. The folder name is a short readable slug of these plus a hash;
the full description is kept in each file, so a refusal can say what differs.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_solbench.record import ItemResult
from pytest_solbench.reports.trace_lines import _finite

FORMAT = "pytest-solbench-run/1"
DEFAULT_STORE = Path(".solbench") / "runs"
FORCE_FLAG = "--solbench-compare-force"
PARTIAL = "-partial"  # the suffix of a run saved though it is not whole (``save_run``)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class StoreError(Exception):
    """A saved run that cannot be written, found, read or compared; the message names the file."""


@dataclass(frozen=True)
class SavedRun:
    """A run read back from the store."""

    path: Path
    name: str
    machine: dict[str, Any]
    commit: str | None
    saved_at: str
    records: tuple[ItemResult, ...]
    unfinished: tuple[str, ...] = ()  # why the run is not whole (interrupted, files not collected); () when it is

    @property
    def label(self) -> str:
        """How reports name this run: ``'main' (commit 1a2b3c4, 2026-11-26)``, and ``, partial: why`` if it is."""
        commit = f"commit {self.commit[:7]}, " if self.commit else ""
        partial = f"; partial: {', '.join(self.unfinished)}" if self.unfinished else ""
        return f"'{self.name}' ({commit}{self.saved_at[:10] or 'undated'}{partial})"


# ---------------------------------------------------------------- the machine


def machine_info(environment: dict[str, Any], hardware: str, clocks_mode: str) -> dict[str, Any]:
    """What two runs must share to be compared: the ``environment`` of an ItemResult (GPU name, driver, library
    versions), the hardware row the bounds used, and the clock state (``"observe"`` or ``"locked 1410/1593 MHz"``)."""
    libs = environment.get("libs") or {}
    return {
        "gpu": str(environment.get("hardware") or "unknown GPU"),
        "driver": str(environment.get("driver") or "unknown"),
        "clocks": str(clocks_mode or "observe"),
        "hardware_row": str(hardware),
        "torch": str(libs.get("torch", "none")),
        "triton": str(libs.get("triton", "none")),
        "cuda": str(libs.get("cuda", "none")),
    }


def machine_key(environment: dict[str, Any], hardware: str, clocks_mode: str) -> str:
    """A short stable folder name for a machine: ``nvidia-h100-80gb-hbm3-observe-1a2b3c4d``."""
    return slug_of(machine_info(environment, hardware, clocks_mode))


def slug_of(machine: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(machine, sort_keys=True).encode()).hexdigest()[:8]
    readable = "-".join(str(machine.get(k, "")) for k in ("gpu", "clocks")).lower()
    readable = re.sub(r"[^a-z0-9]+", "-", readable).strip("-")[:48].rstrip("-")
    return f"{readable}-{digest}"


def machine_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Each field that differs, in words: ``["driver 575.51 -> 580.159", ...]``."""
    keys = [*old, *(k for k in new if k not in old)]
    return [f"{k} {old.get(k, '-')} -> {new.get(k, '-')}" for k in keys if old.get(k) != new.get(k)]


# ---------------------------------------------------------------- git


# A checkout's own config may name commands git runs for it (an fsmonitor, a clean filter), and the folder may be a
# submission's: no hook, no fsmonitor, no submodule (red-team round 12, n01: core.fsmonitor ran as root at the end).
_GIT = ("git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null")
_FILTERS = r"^filter\..*\.(clean|process)$"


def git_commit(cwd: Path | str | None = None) -> str | None:
    """The commit checked out in ``cwd`` (with ``+dirty`` when tracked files changed), or None outside a repo.
    Where a clean filter is configured (Git LFS, or one the checkout names) whether files changed is not asked: git
    would run the filter's command on them."""
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*_GIT, *args], cwd=cwd, capture_output=True, text=True, timeout=10)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return None
        sha = head.stdout.strip() or None
        if git("config", "--get-regexp", _FILTERS).stdout.strip():
            return sha
        dirty = git("status", "--porcelain", "--untracked-files=no", "--ignore-submodules=all")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}+dirty" if sha and dirty.returncode == 0 and dirty.stdout.strip() else sha


def default_store(invocation_dir: Path, inipath: Path | None) -> Path:
    """Where runs live when no --solbench-store names it: ``.solbench/runs`` at the git top-level of the folder
    pytest was started in, else beside the ini file, else in that folder. Not pytest's rootdir, which moves with
    the arguments: a save on main and a compare on a pull request must find each other."""
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=invocation_dir, capture_output=True,
                             text=True, timeout=10)  # fmt: skip
        if top.returncode == 0 and top.stdout.strip():
            return Path(top.stdout.strip()) / DEFAULT_STORE
    except (OSError, subprocess.SubprocessError):
        pass
    return (inipath.parent if inipath is not None else Path(invocation_dir)) / DEFAULT_STORE


# ---------------------------------------------------------------- save and load


def run_path(root: Path, name: str, machine: dict[str, Any]) -> Path:
    _check_name(name)
    return Path(root) / slug_of(machine) / f"{name}.json"


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise StoreError(f"run name {name!r}: use letters, digits, '.', '_' and '-' only (at most 100 characters)")


IGNORE_ALL = "# made by pytest-solbench: saved runs stay out of git (delete this file to commit them)\n*\n"


def _ignored_by_git(root: Path) -> None:
    """A ``.gitignore`` of ``*`` in the ``.solbench`` folder the store lies in, as pytest does for its cache, so a
    user's ``git add -A`` does not commit saved runs; a store elsewhere is the user's own choice."""
    for folder in (Path(root), *Path(root).parents):
        if folder.name == ".solbench":
            marker = folder / ".gitignore"
            if not marker.exists():
                marker.write_text(IGNORE_ALL)
            return


def check_save(root: Path, name: str) -> None:
    """What a save at the end of the session needs, checked before anything runs (after a long run it is too late):
    a valid name, when one is given, and a store folder that can be written."""
    if name:
        _check_name(name)
    try:
        Path(root).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root):
            pass
        _ignored_by_git(root)
    except OSError as exc:
        why = "a folder on that path is a file" if isinstance(exc, (FileExistsError, NotADirectoryError)) else exc.strerror
        raise StoreError(f"{root}: runs cannot be saved there: {why or exc} (--solbench-store DIR names another "
                         "store)") from None  # fmt: skip


def save_run(root: Path, name: str, records: list[ItemResult], machine: dict[str, Any], commit: str | None,
             unfinished: list[str] | tuple[str, ...] = ()) -> Path:
    """Write the run atomically (a temporary file renamed over the old one), each record with its raw samples. A run
    that is not whole (``unfinished``: interrupted, files not collected) is saved as ``NAME-partial`` and says why:
    an interrupted run on main must not replace the baseline every pull request is compared with."""
    if unfinished:
        name = f"{name}{PARTIAL}"
    path = run_path(root, name, machine)
    data = {
        "format": FORMAT,
        "name": name,
        "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit,
        "machine": machine,
        "machine_key": slug_of(machine),
        "unfinished": list(unfinished),
        "records": [r.to_dict() for r in records],
    }
    text = json.dumps(_finite(data), indent=1, default=str, allow_nan=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _ignored_by_git(root)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{name}.", suffix=".tmp", delete=False) as tmp:
            tmp.write(text)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, path)
    except OSError as exc:
        raise StoreError(f"{path}: cannot save the run: {exc.strerror or exc}") from None
    return path


def load_run(root: Path, name_or_path: str | Path, machine: dict[str, Any], force: bool = False) -> SavedRun:
    """A saved run by name (under this machine's folder of ``root``) or by path (a ``.json`` file or one with a
    slash). Refuses a run of another machine or clock state unless ``force``; the message says what differs."""
    text = str(name_or_path)
    if text.endswith(".json") or "/" in text or os.sep in text:
        run = read_run(Path(text))
    else:
        path = run_path(root, text, machine)
        if not path.exists():
            others = sorted(Path(root).glob(f"*/{text}.json"))
            if not others:
                raise StoreError(f"{path}: no saved run named '{text}' (save one with --solbench-save {text}; a run "
                                 "saved from another checkout is in that checkout's store: --solbench-store DIR)")
            if not force or len(others) > 1:
                where = ", ".join(str(p) for p in others)
                hint = f"; {FORCE_FLAG} compares anyway" if len(others) == 1 else "; pass one of them as a path"
                raise StoreError(f"{path}: no run '{text}' saved on this machine; runs of that name were saved "
                                 f"on other machines or clock states: {where}{hint}")  # fmt: skip
            path = others[0]
        run = read_run(path)
    differences = machine_differences(run.machine, machine)
    if differences and not force:
        raise StoreError(f"{run.path}: saved on another machine or clock state ({'; '.join(differences)}): its times "
                         f"are not comparable with this run's; {FORCE_FLAG} compares anyway")  # fmt: skip
    return run


def latest_run(root: Path, machine: dict[str, Any]) -> Path:
    """The run saved last on this machine (for a bare ``--solbench-compare``)."""
    folder = Path(root) / slug_of(machine)
    runs = sorted((p for p in folder.glob("*.json") if not p.stem.endswith(PARTIAL)), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise StoreError(f"{folder}: no saved run for this machine yet (save one with --solbench-save NAME)")
    return runs[-1]


def default_name(commit: str | None) -> str:
    """The name of a run saved without one: its short commit, else the UTC time (``run-20261126-0135``)."""
    if commit:
        sha, _, dirty = commit.partition("+")
        return sha[:12] + (f"-{dirty}" if dirty else "")
    return _dt.datetime.now(_dt.timezone.utc).strftime("run-%Y%m%d-%H%M%S")


def read_run(path: Path) -> SavedRun:
    """Read one run file as it is, whatever machine saved it."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise StoreError(f"{path}: no such saved run") from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the saved run: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: not a saved run (corrupt JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StoreError(f"{path}: not a saved run of pytest-solbench (field 'format' is not {FORMAT!r})")
    try:
        records = tuple(ItemResult.from_dict(r) for r in data["records"])
        machine = dict(data["machine"])
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"{path}: a saved run with a damaged field ({exc})") from None
    name, saved_at = str(data.get("name") or path.stem), str(data.get("saved_at", ""))
    unfinished = tuple(str(x) for x in data.get("unfinished") or ())
    return SavedRun(path, name, machine, data.get("commit"), saved_at, records, unfinished)

"""The book pipeline: run matrix → papermill → normalised notebooks → Jupyter Book → swap.

``make book`` calls :func:`build`. In order, it

1. reads the run matrix (``runs.yml``) and checks it against ``_toc.yml`` and each notebook's
   ``parameters`` cell, and checks every command-line override (type, range, choices, pattern),
   before any kernel starts;
2. validates the whole data manifest (hashes, schemas, provenance) and the claims registry, then
   takes the build lock (``_build/.lock``): a second build started meanwhile is refused at once;
3. executes each notebook whose inputs changed (content hash) with papermill, 2 workers;
4. normalises the executed notebooks (timings, random ids) so builds are byte-identical;
5. stages the book in a scratch folder, generates the claims ledger and the data-provenance
   page, renders with Jupyter Book 1.x (``-n -W --keep-going``, execution off); and
6. only if all of that succeeded, swaps the new site into place (``_build/html``, or
   ``_build/variants/<name>/html`` for a variant run) and writes ``claims.json`` beside it.

A failure at any step leaves the previous site untouched.
"""

from __future__ import annotations

import ast
import concurrent.futures as cf
import contextlib
import fcntl
import hashlib
import json
import math
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import VertintError, paths, yaml_problem

TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list": list}
#: what a parameter in runs.yml may declare
PARAM_KEYS = ("type", "default", "help", "choices", "min", "max", "item_type", "pattern")
STATE_FILE = "state.json"
LOCK_FILE = ".lock"  # in _build/: held (flock) by the running build


class RunError(VertintError):
    pass


class BuildLocked(RunError):
    """Another build holds ``_build/.lock``."""


class PageError(RunError):
    """A generated page could not be written into the staged book."""


# --------------------------------------------------------------------------- run matrix


@dataclass
class Param:
    name: str
    type: str
    default: object
    help: str = ""
    choices: list | None = None
    min: float | None = None
    max: float | None = None
    item_type: str | None = None  # for lists: "str" (default), "int" or "float"
    pattern: str | None = None  # for str (and lists of str): a regular expression each value must match in full


@dataclass
class NotebookRun:
    name: str
    path: str
    title: str
    data: list[str]
    params: dict[str, Param]
    values: dict = field(default_factory=dict)
    root: Path | None = None  # the tree whose runs.yml declared it (default: the project)

    @property
    def source(self) -> Path:
        return (self.root or paths.root()) / self.path


def load_matrix(root: Path | None = None) -> dict[str, NotebookRun]:
    root = root or paths.root()
    path = root / "runs.yml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RunError(f"{path}: run matrix not found") from exc
    except yaml.YAMLError as exc:
        raise RunError(f"runs.yml: not valid YAML: {yaml_problem(exc)}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("notebooks") or {}, dict):
        raise RunError("runs.yml: expected a mapping 'notebooks:' with one entry per chapter notebook")
    runs: dict[str, NotebookRun] = {}
    for name, spec in (raw.get("notebooks") or {}).items():
        if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
            raise RunError(f"runs.yml: {name}: expected a mapping with a 'path' (and title, data, parameters)")
        if not isinstance(spec.get("parameters") or {}, dict):
            raise RunError(f"runs.yml: {name}: 'parameters' must map each parameter name to its declaration")
        params = {}
        for pname, p in (spec.get("parameters") or {}).items():
            if not isinstance(p, dict):
                raise RunError(f"runs.yml: {name}.{pname}: expected a mapping such as {{type: str, default: ..., help: ...}}")
            unknown = [k for k in p if k not in PARAM_KEYS]
            if unknown:
                raise RunError(f"runs.yml: {name}.{pname}: unknown key {unknown[0]!r} (allowed: {', '.join(PARAM_KEYS)})")
            ptype = p.get("type")
            if ptype not in TYPES:
                raise RunError(f"runs.yml: {name}.{pname}: type must be one of {', '.join(TYPES)}")
            if p.get("item_type", "str") not in ("str", "int", "float"):
                raise RunError(f"runs.yml: {name}.{pname}: item_type must be str, int or float")
            pattern = p.get("pattern")
            if pattern is not None:
                if ptype != "str" and not (ptype == "list" and p.get("item_type", "str") == "str"):
                    raise RunError(f"runs.yml: {name}.{pname}: a pattern applies only to str parameters (and lists of str)")
                try:
                    re.compile(str(pattern))
                except re.error as exc:
                    raise RunError(f"runs.yml: {name}.{pname}: pattern {pattern!r} is not a valid regular expression: {exc}") from None
                pattern = str(pattern)
            params[pname] = Param(pname, ptype, p.get("default"), p.get("help", ""), p.get("choices"),
                                  p.get("min"), p.get("max"), p.get("item_type"), pattern)
            check_value(name, params[pname], p.get("default"))
        runs[name] = NotebookRun(
            name=name,
            path=spec["path"],
            title=spec.get("title", name),
            data=list(spec.get("data") or []),
            params=params,
            values={k: v.default for k, v in params.items()},
            root=root,
        )
    return runs


def check_value(nb: str, p: Param, value):
    """Refuse a value of the wrong type or out of range, naming the notebook and parameter."""
    where = f"notebook {nb!r}, parameter {p.name!r}"
    want = TYPES[p.type]
    if p.type == "float" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if p.type == "int" and isinstance(value, bool) or not isinstance(value, want):
        raise RunError(f"{where}: expected {p.type}, got {value!r}")
    items = value if p.type == "list" else [value]
    ranged = p.min is not None or p.max is not None
    if p.type == "list" and p.item_type in ("int", "float"):
        kinds = (int,) if p.item_type == "int" else (int, float)
        bad = [v for v in items if isinstance(v, bool) or not isinstance(v, kinds)]
        if bad:
            raise RunError(f"{where}: expected a list of {p.item_type}, got item {bad[0]!r}")
        # nan compares False with everything, so a range check alone would let it through
        if any(not math.isfinite(v) for v in items) and not ranged:
            raise RunError(f"{where}: items of {value!r} must be finite numbers")
        if any(not math.isfinite(v) or p.min is not None and v < p.min or p.max is not None and v > p.max for v in items):
            raise RunError(f"{where}: items of {value!r} must lie in [{p.min}, {p.max}]")
        return value
    if p.choices is not None:
        bad = [v for v in items if v not in p.choices]
        if bad:
            raise RunError(f"{where}: {bad[0]!r} is not one of {', '.join(map(str, p.choices))}")
    if p.pattern is not None:
        bad = [v for v in items if not re.fullmatch(p.pattern, str(v))]
        if bad:
            example = f" (e.g. {p.default!r})" if isinstance(p.default, str) and re.fullmatch(p.pattern, p.default) else ""
            raise RunError(f"{where}: {bad[0]!r} does not match the pattern {p.pattern}{example}")
    if p.type == "float" and not math.isfinite(value) and not ranged:
        raise RunError(f"{where}: expected a finite float, got {value!r}")
    if p.type == "float" and not math.isfinite(value) or p.min is not None and value < p.min or p.max is not None and value > p.max:
        raise RunError(f"{where}: {value!r} is out of range [{p.min}, {p.max}]")
    return value


def parse_value(nb: str, p: Param, text: str):
    """Turn a command-line string into a typed parameter value (then range-check it)."""
    where = f"notebook {nb!r}, parameter {p.name!r}"
    try:
        if p.type == "bool":
            low = text.strip().lower()
            if low not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            value = low in ("true", "1", "yes")
        elif p.type == "int":
            value = int(text)
        elif p.type == "float":
            value = float(text)
        elif p.type == "list":
            value = [t.strip() for t in text.split(",") if t.strip()]
            if p.item_type == "int":
                value = [int(t) for t in value]
            elif p.item_type == "float":
                value = [float(t) for t in value]
        else:
            value = text
    except ValueError:
        want = f"a comma-separated list of {p.item_type}" if p.type == "list" else p.type
        raise RunError(f"{where}: expected {want}, got {text!r}") from None
    return check_value(nb, p, value)


def apply_overrides(runs: dict[str, NotebookRun], overrides: list[str]) -> dict[str, dict]:
    """Apply ``notebook.name=value`` overrides; return them, typed, per notebook."""
    applied: dict[str, dict] = {}
    for item in overrides:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise RunError(f"override {item!r}: expected NOTEBOOK.PARAMETER=VALUE, e.g. workforce.measure=headcount")
        key, text = item.split("=", 1)
        nb, pname = key.split(".", 1)
        if nb not in runs:
            raise RunError(f"override {item!r}: no notebook {nb!r} in runs.yml (known: {', '.join(runs)})")
        run = runs[nb]
        if pname not in run.params:
            raise RunError(
                f"notebook {nb!r} ({run.path}) has no parameter {pname!r} (declared: {', '.join(run.params)})"
            )
        value = parse_value(nb, run.params[pname], text)
        run.values[pname] = value
        applied.setdefault(nb, {})[pname] = value
    return applied


def read_source(path: Path) -> dict:
    """A chapter's source notebook as a notebook dict: MyST markdown (``.md``, read with jupytext) or
    ``.ipynb``. Cell ids are set from the cell's position, so a conversion is deterministic."""
    try:
        if path.suffix == ".md":
            import jupytext

            nb = json.loads(jupytext.writes(jupytext.read(path, fmt="md:myst"), fmt="ipynb"))
        else:
            nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            cell["id"] = f"cell-{i}"
        return nb
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RunError(f"{path.name}: not a readable notebook ({type(exc).__name__}: {' '.join(str(exc).split())})") from None


def write_source(nb: dict, path: Path) -> None:
    """Write a notebook dict back as the source format of ``path`` (MyST markdown for ``.md``)."""
    if path.suffix == ".md":
        import jupytext

        path.write_text(jupytext.writes(jupytext.reads(json.dumps(nb), fmt="ipynb"), fmt="md:myst"), encoding="utf-8")
    else:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def notebook_parameters(path: Path) -> dict:
    """The literal assignments in a notebook's cell tagged ``parameters`` (no kernel needed)."""
    nb = read_source(path)
    try:
        cells = [c for c in nb["cells"] if "parameters" in (c.get("metadata", {}).get("tags") or [])]
    except (KeyError, TypeError, AttributeError) as exc:
        raise RunError(f"{path.name}: not a readable notebook ({type(exc).__name__}: {exc})") from None
    if len(cells) != 1:
        raise RunError(f"{path.name}: needs exactly one cell tagged 'parameters' (found {len(cells)})")
    src = "".join(cells[0]["source"]) if isinstance(cells[0]["source"], list) else cells[0]["source"]
    out = {}
    try:
        body = ast.parse(src).body
    except SyntaxError as exc:
        raise RunError(f"{path.name}: the parameters cell is not valid Python: {exc.msg} (line {exc.lineno})") from None
    for node in body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            target, value = node.target.id, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        else:
            raise RunError(f"{path.name}: the parameters cell may hold only simple literal assignments")
        try:
            out[target] = ast.literal_eval(value)
        except ValueError:
            raise RunError(f"{path.name}: parameter {target!r} must be a literal") from None
    return out


def check_contracts(runs: dict[str, NotebookRun], root: Path | None = None) -> None:
    """runs.yml, _toc.yml and the notebooks' parameters cells must agree."""
    root = root or paths.root()
    try:
        toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RunError(f"_toc.yml: not valid YAML: {yaml_problem(exc)}") from None
    toc_files = set(_toc_files(toc))
    for name, run in runs.items():
        if not run.source.exists():
            raise RunError(f"runs.yml: {name}: {run.path} does not exist")
        stem = str(Path(run.path).with_suffix(""))
        if stem not in toc_files:
            raise RunError(f"runs.yml: {name}: {stem} is not in _toc.yml")
        declared = notebook_parameters(run.source)
        if set(declared) != set(run.params):
            raise RunError(
                f"{run.path}: parameters cell declares {sorted(declared)}, runs.yml declares {sorted(run.params)}"
            )
        for pname, p in run.params.items():
            if declared[pname] != p.default:
                raise RunError(f"{run.path}: parameter {pname!r} defaults to {declared[pname]!r} in the notebook but {p.default!r} in runs.yml")
    nb_stems = {str(Path(r.path).with_suffix("")) for r in runs.values()}
    for f in toc_files:
        if f.startswith("notebooks/") and f not in nb_stems:
            raise RunError(f"_toc.yml: {f} is not in runs.yml")


def _toc_files(node) -> list[str]:
    out = []
    if isinstance(node, dict):
        if "file" in node:
            out.append(node["file"])
        if "root" in node:
            out.append(node["root"])
        for v in node.values():
            out.extend(_toc_files(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(_toc_files(v))
    return out


# --------------------------------------------------------------------------- hashing


def _hash_files(h, files: list[Path], base: Path) -> None:
    for f in sorted(files):
        h.update(str(f.relative_to(base)).encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")


def package_files(root: Path) -> list[Path]:
    return [p for p in (root / "src" / "vertint").rglob("*.py")]


def run_hash(run: NotebookRun, root: Path | None = None) -> str:
    """Content hash of everything a notebook's output depends on."""
    from . import data

    root = root or paths.root()
    h = hashlib.sha256()
    h.update(run.source.read_bytes())
    h.update(json.dumps(run.values, sort_keys=True).encode())
    files = [root / "requirements.txt", *package_files(root), *sorted((root / "claims").glob("*.yml")),
             *sorted((root / "rubric").glob("*.yml"))]
    for name in run.data:
        res = data.resource(name, root)
        files.append(root / "data" / res["path"])
        h.update(json.dumps(res, sort_keys=True, default=str).encode())
    _hash_files(h, [f for f in files if f.exists()], root)
    return h.hexdigest()


# --------------------------------------------------------------------------- execution

_SM_DATE = re.compile(r"(Date:\s+)\w{3}, \d{2} \w{3} \d{4}")
_SM_TIME = re.compile(r"(Time:\s+)\d{2}:\d{2}:\d{2}")
_ALTAIR_ID = re.compile(r"altair-viz-[0-9a-f]{32}")
_ADDR = re.compile(r" at 0x[0-9a-f]{6,16}>")


def _scrub(text: str) -> str:
    text = _SM_DATE.sub(r"\1(date removed)", text)
    text = _SM_TIME.sub(r"\1(time removed)", text)
    text = _ALTAIR_ID.sub("altair-viz-normalised", text)
    return _ADDR.sub(">", text)


def _scrub_any(value):
    if isinstance(value, str):
        return _scrub(value)
    if isinstance(value, list):
        return [_scrub_any(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_any(v) for k, v in value.items()}
    return value


def normalise(nb: dict, parameters: dict) -> dict:
    """Remove what differs between two executions of the same inputs."""
    meta = nb.setdefault("metadata", {})
    meta.pop("papermill", None)
    meta["vertint"] = {"parameters": parameters}
    for i, cell in enumerate(nb.get("cells", [])):
        cmeta = cell.setdefault("metadata", {})
        cmeta.pop("papermill", None)
        cmeta.pop("execution", None)
        tags = cmeta.get("tags") or []
        if "injected-parameters" in tags:
            cell["id"] = "injected-parameters"
        if ("parameters" in tags or "injected-parameters" in tags) and "remove-cell" not in tags:
            # plumbing: each chapter's run stamp shows the parameter values this run used
            cmeta["tags"] = [*tags, "remove-cell"]
        for out in cell.get("outputs", []) or []:
            if "text" in out:
                out["text"] = _scrub_any(out["text"])
            if "data" in out:
                out["data"] = _scrub_any(out["data"])
            if "traceback" in out:
                out["traceback"] = _scrub_any(out["traceback"])
    return nb


def _execute(src: str, dest: str, parameters: dict, cwd: str, root: str) -> dict:
    """Worker: run one notebook with papermill; return ok/error details (never raises)."""
    import papermill as pm

    os.environ["VERTINT_ROOT"] = root
    os.environ["PYTHONHASHSEED"] = "0"  # kernels inherit it: set/dict order cannot vary run to run
    started = time.monotonic()
    try:
        pm.execute_notebook(
            src,
            dest,
            parameters=parameters,
            kernel_name="python3",
            cwd=cwd,
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            record_timing=False,
            shutdown_kernel="immediate",
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    except pm.PapermillExecutionError as exc:
        tb = "\n".join(exc.traceback) if exc.traceback else ""
        return {
            "ok": False,
            "cell": _source_cell_number(dest, exc.cell_index),
            "exec_count": exc.exec_count,
            "error": f"{exc.ename}: {exc.evalue}",
            "traceback": _strip_ansi(tb),
            "seconds": time.monotonic() - started,
        }
    except Exception as exc:  # kernel died, bad notebook JSON, ...
        return {"ok": False, "cell": None, "error": f"{type(exc).__name__}: {exc}", "traceback": "", "seconds": time.monotonic() - started}
    return {"ok": True, "seconds": time.monotonic() - started}


def _source_cell_number(executed: str, index: int) -> int:
    """1-based number of the failing cell in the *source* notebook (papermill inserts a cell)."""
    try:
        cells = json.loads(Path(executed).read_text(encoding="utf-8"))["cells"]
        injected = [i for i, c in enumerate(cells) if "injected-parameters" in (c.get("metadata", {}).get("tags") or [])]
        if injected and injected[0] < index:
            index -= 1
    except (OSError, ValueError, KeyError):
        pass
    return index + 1


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


@dataclass
class Outcome:
    name: str
    status: str  # "cached", "ran", "failed"
    seconds: float = 0.0
    path: Path | None = None
    detail: dict = field(default_factory=dict)


def execute_all(runs: dict[str, NotebookRun], cache: Path, workers: int = 2, console=None) -> dict[str, Outcome]:
    """Execute every notebook whose hash is not cached; return outcomes by name."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    root = paths.root()
    cache.mkdir(parents=True, exist_ok=True)
    outcomes: dict[str, Outcome] = {}
    todo = []
    for name, run in runs.items():
        digest = run_hash(run)[:20]
        target = cache / f"{name}-{digest}.ipynb"
        if target.exists():
            outcomes[name] = Outcome(name, "cached", 0.0, target)
        else:
            todo.append((name, run, target))
    if not todo:
        return outcomes
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx) as pool, Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=False
    ) as progress:
        futures = {}
        tasks = {}
        for name, run, target in todo:
            tmp = target.with_suffix(f".tmp{os.getpid()}.ipynb")
            src = target.with_suffix(f".src{os.getpid()}.ipynb")  # the text source, converted for papermill
            _write_notebook(read_source(run.source), src)
            tasks[name] = progress.add_task(f"[cyan]{run.path}[/] running", total=1)
            fut = pool.submit(_execute, str(src), str(tmp), dict(run.values), str(run.source.parent), str(root))
            futures[fut] = (name, run, target, tmp, src)
        for fut in cf.as_completed(futures):
            name, run, target, tmp, src = futures[fut]
            res = fut.result()
            src.unlink(missing_ok=True)
            if res["ok"]:
                nb = json.loads(tmp.read_text(encoding="utf-8"))
                nb = normalise(nb, run.values)
                _write_notebook(nb, tmp)
                os.replace(tmp, target)
                outcomes[name] = Outcome(name, "ran", res["seconds"], target)
                progress.update(tasks[name], completed=1, description=f"[green]{run.path}[/] done")
            else:
                tmp.unlink(missing_ok=True)
                outcomes[name] = Outcome(name, "failed", res["seconds"], None, res)
                progress.update(tasks[name], completed=1, description=f"[red]{run.path}[/] FAILED")
    return outcomes


def _write_notebook(nb: dict, path: Path) -> None:
    import nbformat

    node = nbformat.from_dict(nb)
    with open(path, "w", encoding="utf-8") as fh:
        nbformat.write(node, fh)


# --------------------------------------------------------------------------- staging and rendering


def _git_commit(root: Path) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        if out.returncode == 0:
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return "uncommitted"


def vega_bundle(cache: Path) -> Path:
    """The vega + vega-lite + vega-embed bundle, made offline by vl-convert, wrapped so that its
    top-level names do not clash with Sphinx's scripts. Cached by vl-convert version."""
    import vl_convert

    version = getattr(vl_convert, "__version__", "unknown")
    path = cache / f"vega-bundle-{version}.js"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        body = vl_convert.javascript_bundle()
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text("(function(){\n" + body + "\n})();\n", encoding="utf-8")
        os.replace(tmp, path)
    return path


def stage(runs, outcomes, stage_dir: Path, cache: Path, variant: str | None, grids: dict | None = None) -> list[dict]:
    """Lay out the book sources with executed notebooks; generate pages; return claim records."""
    from . import claims as claims_mod
    from . import pages

    root = paths.root()
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    stage_dir.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, stage_dir / name)
    shutil.copytree(root / "book", stage_dir / "book")
    shutil.copytree(root / "assets", stage_dir / "assets")
    shutil.copy2(vega_bundle(cache), stage_dir / "assets" / "vega-bundle.js")
    from .charts import runtime_js

    (stage_dir / "assets" / "vertint-charts.js").write_text(runtime_js(), encoding="utf-8")
    (stage_dir / "notebooks").mkdir()
    records: list[dict] = []
    for name, run in runs.items():
        nb_path = outcomes[name].path
        dest = stage_dir / Path(run.path).with_suffix(".ipynb")  # the executed notebook, whatever the source format
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(nb_path, dest)
        externalise_downloads(dest, stage_dir / "assets" / "data", "../_static/data/")
        records.extend(claims_mod.collect(json.loads(nb_path.read_text(encoding="utf-8"))))
    _check_claims(records, root)
    if grids is not None:
        from . import robustness

        robustness.annotate(records, grids)
        from .claims import validate_records

        validate_records(records, root)
        if not variant:  # a variant's verdicts are its own specification's, not the default's
            wrong = [p for p in robustness.check_coverage(records, grids) if "the chapter emitted" in p]
            if wrong:
                raise RunError("the robustness grid disagrees with the chapters (a spec function does not judge the "
                               "claim as the notebook does):\n  " + "\n  ".join(wrong))
    try:
        pages.write_generated(stage_dir, records, runs, variant)
    except (OSError, ValueError) as exc:  # a page without its marker; a file that cannot be read or written
        why = str(exc) if type(exc) is ValueError else f"{type(exc).__name__}: {exc}"
        raise PageError(f"generating the book's pages: {' '.join(why.split())}") from exc
    # --- releases (vertint.release): the What-changed page; its label opens the footer below ---
    from . import release as release_mod

    try:
        release_mod.write_changes(stage_dir, records, variant)
    except (OSError, ValueError) as exc:
        raise PageError(f"generating the book's pages: {' '.join(str(exc).split())}") from exc
    # --- end releases ---
    # page footer: release, commit and data-manifest hash
    from . import data

    cfg_path = stage_dir / "_config.yml"
    cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    footer = (
        f'{release_mod.footer_label(root)}. '  # releases: "Release X.Y.Z (date)" or "Unreleased, after X.Y.Z"
        f'Built from commit <code>{_git_commit(root)}</code> with data manifest '
        f'<code>{data.manifest_hash()[:12]}</code>'
        + (f' (variant <code>{variant}</code>)' if variant else "")
        + '. Text <a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>; code MIT.'
        # `vertint pdf` (vertint.pdf.link_footer) fills this with a link to the whole-book PDF once it exists
        + ('' if variant else '<span class="vertint-pdf"></span>')
    )
    cfg.setdefault("html", {})["extra_footer"] = footer
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return records


_CSV_LINK = re.compile(r'<a download="([A-Za-z0-9_.-]+\.csv)" href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)"')


def externalise_downloads(notebook: Path, out_dir: Path, href_prefix: str) -> int:
    """Move each figure's CSV download (a base64 data URI written by ``charts.embed_html``) out of
    the staged notebook into a file of the site (``_static/data/<key>.csv``), linked by its path:
    the page carries a link, not the data twice. Returns the number of files written."""
    import base64

    nb = json.loads(notebook.read_text(encoding="utf-8"))
    written = 0

    def swap(m: re.Match) -> str:
        nonlocal written
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / m.group(1)).write_bytes(base64.b64decode(m.group(2)))
        written += 1
        return f'<a download="{m.group(1)}" href="{href_prefix}{m.group(1)}"'

    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            bundle = output.get("data", {})
            for mime in [m for m in bundle if m.endswith("text/html")]:  # glued figures: ".../papermill.record/text/html"
                html = bundle[mime]
                bundle[mime] = [_CSV_LINK.sub(swap, part) for part in html] if isinstance(html, list) else _CSV_LINK.sub(swap, html)
    if written:
        notebook.write_text(json.dumps(nb, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return written


def _write_csv_atomic(records: list[dict], path: Path) -> None:
    """The ledger as CSV beside claims.json (columns: vertint.claims.CSV_COLUMNS); the same bytes as
    the copy the site serves (vertint.pages.write_generated puts it in the site root)."""
    from .pages import claims_csv_text

    tmp = path.with_suffix(".csv.tmp")
    tmp.write_text(claims_csv_text(records), encoding="utf-8")
    tmp.replace(path)


def _check_claims(records: list[dict], root: Path) -> None:
    from .claims import registry, validate_records

    validate_records(records, root)

    reg = registry(root)
    seen = [r["id"] for r in records]
    dup = {i for i in seen if seen.count(i) > 1}
    if dup:
        raise RunError(f"claims emitted more than once: {', '.join(sorted(dup))}")
    missing = [cid for cid in reg if cid not in seen]
    if missing:
        raise RunError(f"claims registered in claims/*.yml but not emitted by any notebook: {', '.join(missing)}")


def render(stage_dir: Path, out_dir: Path) -> None:
    """Jupyter Book 1.x, warnings as errors; raise with its log on failure."""
    jb = Path(sys.executable).with_name("jupyter-book")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    cmd = [str(jb), "build", str(stage_dir), "--path-output", str(out_dir), "--builder", "html", "-W", "-n", "--keep-going", "--quiet"]
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        log = (proc.stdout + "\n" + proc.stderr).strip()
        raise RunError(f"jupyter-book build failed (exit {proc.returncode}):\n{log[-6000:]}")


def swap(new: Path, final: Path) -> None:
    """Replace ``final`` with ``new`` (both directories) with two renames."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = final.with_name(final.name + ".previous")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(new, final)
    if old.exists():
        shutil.rmtree(old)


def _write_json_atomic(obj, path: Path) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def site_hash(runs, hashes: dict[str, str], variant: str | None) -> str:
    root = paths.root()
    h = hashlib.sha256()
    h.update(json.dumps(hashes, sort_keys=True).encode())
    h.update((variant or "").encode())
    h.update(_git_commit(root).encode())
    files = [root / "_config.yml", root / "_toc.yml", root / "runs.yml", root / "data" / "datapackage.yaml"]
    files += [p for p in (root / "book").rglob("*") if p.is_file()]
    files += [p for p in (root / "assets").rglob("*") if p.is_file()]
    files += sorted(p for p in (root / "rubric").rglob("*") if p.is_file())
    files += sorted(p for p in (root / "claims").rglob("*") if p.is_file())
    files += package_files(root) + [root / "requirements.txt"]
    _hash_files(h, [f for f in files if f.exists()], root)
    return h.hexdigest()


def variant_slug(applied: dict[str, dict]) -> str:
    parts = []
    for nb in sorted(applied):
        for k in sorted(applied[nb]):
            v = applied[nb][k]
            v = ",".join(map(str, v)) if isinstance(v, list) else str(v).lower()
            parts.append(f"{nb}.{k}={v}")
    slug = re.sub(r"[^A-Za-z0-9_.,=+-]+", "_", "+".join(parts))
    return slug[:120] or "variant"


def prune_cache(cache: Path) -> None:
    """Delete executed notebooks that neither the default book nor any variant uses any more."""
    keep = set()
    states = [paths.build_dir() / STATE_FILE, *(paths.build_dir() / "variants").glob(f"*/{STATE_FILE}")]
    for state in states:
        try:
            hashes = json.loads(state.read_text(encoding="utf-8")).get("notebooks", {})
        except (OSError, ValueError):
            return  # unreadable state: keep everything
        keep |= {f"{name}-{digest}.ipynb" for name, digest in hashes.items()}
    for f in cache.glob("*.ipynb"):
        if f.name not in keep:
            f.unlink(missing_ok=True)


@contextlib.contextmanager
def build_lock(root: Path | None = None):
    """Hold ``_build/.lock`` for the length of a build, so that two builds never share the staging
    folder, the cache or the swap. The lock is an ``flock`` on the open file: the kernel drops it
    when the process ends, however it ends, so a build that crashed never blocks the next one. The
    file's text (pid and start time of the holder) only feeds the refusal message."""
    root = root or paths.root()
    build_dir = root / "_build"
    build_dir.mkdir(parents=True, exist_ok=True)
    path = build_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by kernels or jupyter-book
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            rel = path.relative_to(root) if path.is_relative_to(root) else path
            raise BuildLocked(f"another build is running ({_lock_holder(fd)}); "
                              f"wait for it or remove {rel} if it is stale") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}).encode() + b"\n", 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)  # still holding it: nobody reads a half-cleared file
    finally:
        os.close(fd)  # releases the flock


def _lock_holder(fd: int) -> str:
    """'pid N, started T' from the lock file (the holder may not have written it yet: wait a moment)."""
    for _ in range(20):
        try:
            info = json.loads(os.pread(fd, 4096, 0) or b"null")
        except ValueError:
            info = None
        if isinstance(info, dict) and "pid" in info:
            return f"pid {info['pid']}, started {info.get('started', '?')}"
        time.sleep(0.05)
    return "pid unknown"


@dataclass
class BuildResult:
    html: Path
    claims: Path
    outcomes: dict
    skipped: bool
    seconds: float


def build(overrides: list[str] | None = None, variant: str | None = None, force: bool = False,
          render_only: bool = False, workers: int = 2, console=None) -> BuildResult:
    """Build the book (see module docstring). Raises :class:`RunError` or ``DataError`` on failure."""
    from . import claims as claims_mod
    from . import data

    started = time.monotonic()
    root = paths.root()
    runs = load_matrix(root)
    check_contracts(runs, root)
    applied = apply_overrides(runs, overrides or [])
    if applied and not variant:
        variant = variant_slug(applied)
    if variant is not None and not re.fullmatch(r"[A-Za-z0-9_.,=+-]{1,120}", variant):
        raise RunError(f"variant name {variant!r}: use letters, digits and _.,=+- only")
    # provenance and hashes always; schemas too unless this exact site was already built (below)
    data.validate_all(schema=False)
    for run in runs.values():
        for name in run.data:
            data.resource(name)  # raises if a notebook declares unknown data
    claims_mod.registry(root)  # claims/*.yml parse and are complete, before any kernel reads them

    # from here on the build reads and writes _build/: one build at a time
    with build_lock(root):
        out_root = paths.build_dir() / "variants" / variant if variant else paths.build_dir()
        final_html = out_root / "html"
        claims_path = out_root / "claims.json"
        cache = paths.build_dir() / "cache"
        state_path = out_root / STATE_FILE
        hashes = {name: run_hash(run)[:20] for name, run in runs.items()}
        shash = site_hash(runs, hashes, variant)
        if not force and not render_only and final_html.exists() and claims_path.exists() and state_path.exists():
            state = json.loads(state_path.read_text(encoding="utf-8"))
            if state.get("site_hash") == shash:
                return BuildResult(final_html, claims_path, {}, True, time.monotonic() - started)

        data.validate_all(schema=True)
        from . import robustness

        grids = robustness.compute(executor=robustness.LocalExecutor(workers))  # before the kernels: panels read the cache
        if render_only:
            outcomes = {}
            for name in runs:
                target = cache / f"{name}-{hashes[name]}.ipynb"
                if not target.exists():
                    raise RunError(f"--render-only: no executed copy of {runs[name].path} for the current inputs; run a full build first")
                outcomes[name] = Outcome(name, "cached", 0.0, target)
        else:
            outcomes = execute_all(runs, cache, workers=workers, console=console)
        failed = [o for o in outcomes.values() if o.status == "failed"]
        if failed:
            msgs = []
            for o in failed:
                d = o.detail
                where = f"cell {d['cell']}" if d.get("cell") is not None else "before any cell ran"
                msgs.append(f"{runs[o.name].path} failed in {where}: {d['error']}\n{d.get('traceback', '')}")
            raise RunError("\n\n".join(msgs) + f"\n\nThe previous site at {final_html} was left untouched.")

        work = out_root / ".work"
        stage_dir = work / "src"
        records = stage(runs, outcomes, stage_dir, cache, variant, grids)
        render(stage_dir, work / "out")
        swap(work / "out" / "_build" / "html", final_html)
        _write_json_atomic(records, claims_path)
        _write_csv_atomic(records, claims_path.with_suffix(".csv"))
        _write_json_atomic({"site_hash": shash, "notebooks": hashes, "variant": variant,
                            "parameters": {n: r.values for n, r in runs.items()}}, state_path)
        shutil.rmtree(work, ignore_errors=True)
        prune_cache(cache)
        return BuildResult(final_html, claims_path, outcomes, False, time.monotonic() - started)

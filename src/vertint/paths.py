"""Where things live. ``VERTINT_ROOT`` overrides the repository root (tests build in copies)."""

from __future__ import annotations

import os
from pathlib import Path


def root() -> Path:
    env = os.environ.get("VERTINT_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "runs.yml").exists():
            return parent
    return Path.cwd().resolve()


def data_dir() -> Path:
    return root() / "data"


def manifest_path() -> Path:
    return data_dir() / "datapackage.yaml"


def build_dir() -> Path:
    return root() / "_build"

"""vertint: the library behind the evidence review *Should NHS hospital trusts run GP practices?*

Every number in the book is computed here and called from a thin notebook.
Modules:

- :mod:`vertint.paths` where things live
- :mod:`vertint.data` the vendored data, its manifest and its validation
- :mod:`vertint.claims` the claims registry and verdict records
- :mod:`vertint.charts` the house chart theme and offline figure embedding
- :mod:`vertint.runner` papermill execution, caching, normalisation and the book build
- :mod:`vertint.cli` the ``vertint`` command line
"""

__version__ = "0.1.0"


class VertintError(Exception):
    """An error with a message meant for the person running the build."""


def yaml_problem(exc: Exception) -> str:
    """A YAML parse error as one line ("line 3, column 7: <problem> (<context>)"): PyYAML's own
    message spans several lines, and the command line reports one."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    text = " ".join(str(problem or exc).split())
    if problem and context:
        text += f" ({' '.join(str(context).split())})"
    return (f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else "") + text

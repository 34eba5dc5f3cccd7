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

"""GP workforce and demand: the analysis behind ``notebooks/workforce.md``, in modules of one purpose.

- :mod:`.series`: loading the four vendored tables, points of one methodology vintage, comparisons
  that refuse mixed vintages, and the segmented trend model.
- :mod:`.analyses`: one ``claim_*`` function per registered claim, each judged by a rubric rule.
- :mod:`.charts`: the chapter's figures.
- :mod:`.facts`: figures formatted for the page, and the sentences whose wording depends on the data.

The names below are re-exported so that the notebook and tests can write ``workforce.point(...)``.
"""

from .analyses import *  # noqa: F401,F403
from .charts import *  # noqa: F401,F403
from .facts import *  # noqa: F401,F403
from .series import *  # noqa: F401,F403

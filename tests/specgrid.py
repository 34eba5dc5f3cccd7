"""Shared checks for the chapters' robustness grids (tests/test_specs_<chapter>.py): every claim the
public data decide has a declared grid and a spec function, and each grid's default specification
reproduces the locked ledger (claims/ledger.lock.json), so the grid and the chapter agree."""

from __future__ import annotations

import json
from functools import cached_property

from vertint import claims, paths, robustness, verdicts


class ChapterGrid:
    """One chapter's declared choices, its claims' locked ledger entries and a runner of one spec."""

    def __init__(self, chapter: str):
        self.chapter = chapter

    @cached_property
    def declared(self) -> dict:
        return {cid: cc for cid, cc in robustness.load_choices().items() if cc.chapter == self.chapter}

    @cached_property
    def lock(self) -> dict:
        """The locked entries of this chapter's claims (by the registry's chapter, not the id prefix:
        claim ids keep their prefix when a claim moves chapter)."""
        doc = json.loads((paths.root() / "claims" / "ledger.lock.json").read_text(encoding="utf-8"))
        reg = claims.registry()
        return {r["id"]: r for r in doc["claims"] if reg[r["id"]]["chapter"] == self.chapter}

    def decided(self) -> list[str]:
        """The chapter's claims that the public data decide (a verdict other than not reproducible)."""
        return sorted(cid for cid, r in self.lock.items() if r["verdict"] != verdicts.NOT_REPRODUCIBLE)

    def run(self, cid: str, **changes) -> dict:
        """Evaluate claim ``cid`` at its default specification with ``changes`` applied."""
        cc = self.declared[cid]
        unknown = set(changes) - set(cc.default)
        assert not unknown, f"{cid} declares no choice {sorted(unknown)}"
        return robustness.evaluate(cid, {**cc.default, **changes}, cc)

    def check_covers(self) -> None:
        decided = set(self.decided())
        assert decided, f"no data-decided claim in chapter {self.chapter}"
        assert set(self.declared) == decided, "declared grids differ from the data-decided claims"
        missing = decided - set(robustness.spec_functions([self.chapter]))
        assert not missing, f"claims without a spec function: {sorted(missing)}"

    def check_default(self, cid: str) -> None:
        got, want = self.run(cid), self.lock[cid]
        assert (got["verdict"], got["value"]) == (want["verdict"], want["reproduced"]), (cid, got)

"""Shared checks for the chapters' robustness grids (tests/test_specs_<chapter>.py): every claim the
public data decide has a declared grid and a spec function, and each grid's default specification
reproduces the locked ledger (claims/ledger.lock.json), so the grid and the chapter agree."""

from __future__ import annotations

import json
from functools import cached_property

import pytest

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

    def check_notes(self) -> None:
        """A claim declared without choices says why (its ``note``)."""
        silent = [cid for cid, cc in self.declared.items() if not cc.choices and not cc.note]
        assert not silent, f"claims declared without choices and without a note: {silent}"

    def standard_tests(self):
        """The three checks every chapter's grid must pass, as test functions for the chapter's test
        module to bind: ``test_a, test_b, test_c = G.standard_tests()`` (made fresh per chapter, so
        the parametrisation over its claims belongs to that module alone)."""

        def test_grid_covers_every_data_decided_claim():
            self.check_covers()

        @pytest.mark.parametrize("cid", self.decided())
        def test_default_specification_reproduces_the_lock(cid):
            self.check_default(cid)

        def test_claims_without_choices_say_why():
            self.check_notes()

        return (test_grid_covers_every_data_decided_claim, test_default_specification_reproduces_the_lock,
                test_claims_without_choices_say_why)

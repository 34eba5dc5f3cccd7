# The two commands: `make book` builds the book, `make test` runs the tests.
# Each bootstraps its own virtual environment (.venv) from the pinned requirements.txt.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8000

.PHONY: book pdf test test-fast claims serve variant validate bench clean distclean

# Packages install with uv (from PyPI, pinned below; it downloads and installs in parallel, several
# times faster than pip on a cold cache); if uv cannot be had or fails, pip installs the same pins.
# --compile-bytecode: uv, unlike pip, writes no .pyc by default, and where PYTHONDONTWRITEBYTECODE is
# set (as on the CI machine) every process would then compile pandas, scipy, altair... from source
# again: the notebook kernels and workers of one build start about twenty such processes.
UV_VERSION := 0.13.9

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	( $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) \
	  && $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.txt ) \
	|| $(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

## Execute every notebook (papermill, 2 workers) and render the site to _build/html.
book: $(STAMP)
	$(BIN)/vertint book $(ARGS)

## The whole book as one PDF (_build/pdf/book.pdf, linked from the site), printed by headless Debian
## Chromium from the built site; run `make book` first (it refuses without a built book).
pdf: $(STAMP)
	$(BIN)/vertint pdf $(ARGS)

## Run the whole test suite (unit, data, contracts, bad input, build, determinism, offline, browser).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The quick part of the suite: everything except the tests that build the book or drive Chromium.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not build and not browser" $(PYTEST_ARGS)

## Print the claims ledger (and, after a variant run, the verdicts that changed).
claims: $(STAMP)
	$(BIN)/vertint claims

## Re-run chapters with other parameters, e.g. make variant P="workforce.measure=headcount workforce.include_trainees=true"
variant: $(STAMP)
	$(BIN)/vertint book $(foreach p,$(P),-p $(p))

## Validate data/datapackage.yaml (hashes, schemas, provenance) and the run matrix.
validate: $(STAMP)
	$(BIN)/vertint validate

## Serve the built site on http://127.0.0.1:$(PORT)/ (works offline).
serve:
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

## Timings for the closing note: cold vs render-only vs no-change builds, page sizes, simulation grid.
bench: $(STAMP)
	$(BIN)/python scripts/bench.py

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV)

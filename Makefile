# Two commands for a fresh clone (see README.md):
#   make run    execute the chapter notebooks (the main job)
#   make test   lint + the whole test suite, notebooks included
# Both create the virtual environment .venv/ and install ptm into it first, if needed, with the
# test versions pinned in constraints.txt.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint figures bench clean

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -c constraints.txt -e '.[dev]'
	touch $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/ptm notebooks

test: lint
	$(BIN)/python -m pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/nbstripout --verify notebooks/*/*.ipynb

figures: $(INSTALLED)
	$(BIN)/ptm figures --out docs/figures

bench: $(INSTALLED)
	$(BIN)/python benchmarks/run.py --docs

clean:
	rm -rf build .pytest_cache .ruff_cache

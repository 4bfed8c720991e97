# Two commands for a newcomer: `make run` (set up, index the demo corpus, serve)
# and `make test` (set up, lint, run every test).  Everything lands in .venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1
CORPUS ?= corpus
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# llama-cpp-python compiles from source; -march=native enables instructions (AMX)
# that crash on these CPUs, so the flags are spelled out.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

.PHONY: run test soak install browser eval bench corpora clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install whenever the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet -e '.[dev,local-llm]'
	touch $@

install: $(VENV)/.installed

# The browser tests drive Debian's chromium (never a downloaded browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

run: install
	$(BIN)/qa index $(CORPUS)
	$(BIN)/qa serve --host $(HOST) --port $(PORT)

test: install browser
	$(BIN)/ruff check .
	$(BIN)/pytest

# Ten minutes of mixed traffic against `qa serve`: no errors, memory flat.
soak: install
	$(BIN)/pytest -m soak -s tests/system/test_under_load.py

eval: install
	$(BIN)/qa eval

bench: install
	$(BIN)/qa bench

# Real Debian documentation to evaluate on (`qa eval --set debian-faq`), fetched once into
# ~/.cache/grounded-qa/corpora (QA_CORPORA_DIR); `make corpora CORPORA=maint-guide` for some.
corpora: install
	$(BIN)/python -m eval.corpora fetch $(CORPORA)

clean:
	rm -rf .qa eval/reports test-artifacts

# ICL Companion — the two commands a reader needs are `make book` and `make test` (see README).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
JOBS   ?= 2
CHECKS := _build/checks

.PHONY: install book test unit nbval build-book browser determinism breaks seeds lab bench lint clean

# The clean filter that .gitattributes names for *.ipynb: `git add` stores notebooks without outputs.
# Relative to the top of the work tree (git runs filters there), so every clone or worktree uses its own .venv.
STRIP  := $(BIN)/python -m nbstripout --keep-id

install: $(VENV)/.installed   ## create .venv if missing, install the exact pins, register the nbstripout git filter
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1 \
	  && [ "$$(git config --get filter.nbstripout.clean)" != "$(STRIP)" ]; then \
	  git config filter.nbstripout.clean "$(STRIP)" && git config filter.nbstripout.smudge cat \
	  && echo "registered the nbstripout git filter: notebooks are committed without outputs"; fi

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

book: install   ## build the book into _build/html (executes only what changed; see tests/execute.py)
	ICL_CHECKS_DIR=$(CURDIR)/$(CHECKS)/book $(BIN)/python tests/execute.py --jobs $(JOBS)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo; echo "Open file://$(CURDIR)/_build/html/index.html"

build-book: book

test: install lint unit nbval build-book browser determinism breaks   ## every test: unit, notebooks, book, browser, breaks

lint: install
	$(BIN)/ruff check iclcore tests _ext book templates   # ruff reads the notebooks natively

unit: install   ## unit tests of iclcore (tests/ mirrors the package) and the book's house rules
	$(BIN)/pytest -q -n $(JOBS) tests --ignore=tests/book/test_browser.py --ignore=tests/book/test_lab.py \
	  --ignore=tests/book/test_determinism.py

nbval: install   ## execute every notebook listed in _toc.yml with nbval; `make book` reuses these executions
	rm -rf $(CHECKS)/nbval
	ICL_CHECKS_DIR=$(CURDIR)/$(CHECKS)/nbval PYTHONPATH=tests $(BIN)/pytest -q -n $(JOBS) --dist loadfile \
	  --nbval-lax -p nbval_cache -p no:cacheprovider $$($(BIN)/python tests/toc.py) templates/chapter.ipynb

browser: install   ## drive headless chromium over the built book, and over JupyterLab (a live panel)
	$(BIN)/pytest -q tests/book/test_browser.py tests/book/test_lab.py

determinism: install   ## chapters executed again in fresh kernels must measure nbval's check values exactly
	$(BIN)/pytest -q tests/book/test_determinism.py

breaks: install   ## run every chapter once per break switch (ICL_BREAK): its checks must fail
	$(BIN)/python tests/breaks.py -j $(JOBS)

seeds: install   ## the checks of every chapter must pass for ICL_SEED = 1 and 2 as well (0 is nbval's run)
	for s in 1 2; do \
	  echo "== ICL_SEED=$$s"; \
	  ICL_SEED=$$s $(BIN)/pytest -q -n $(JOBS) --dist loadfile --nbval-lax -p no:cacheprovider \
	    $$($(BIN)/python tests/toc.py) || exit 1; \
	done

LAB_ROOT ?= $(CURDIR)
LAB_ARGS ?=
lab: install   ## open the notebooks in JupyterLab with live widgets (rooted at the repository; tests/book/test_lab.py adds LAB_ROOT, LAB_ARGS)
	$(BIN)/jupyter lab --ServerApp.root_dir=$(LAB_ROOT) --LabApp.default_url=/lab/tree/book/chapters \
	  $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

bench: install   ## time each notebook in a fresh kernel
	$(BIN)/python tests/bench.py

clean:
	rm -rf _build

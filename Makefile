# The README's two commands: `make lab` and `make test`. Both create .venv on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
EXTENSIONS := $(wildcard extensions/*/pyproject.toml)

.PHONY: install lab test lint binder-check clean

$(VENV)/.installed: pyproject.toml $(EXTENSIONS)
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]' $(foreach e,$(EXTENSIONS),-e $(dir $(e)))
	touch $@

install: $(VENV)/.installed

lab: install
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --notebook-dir=notebooks $(ROOT_FLAG)

test: install
	HF_HUB_OFFLINE=1 $(VENV)/bin/ruff check .
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info

# Build a fresh venv from exactly the binder/ files (as repo2docker would) and run the notebooks.
binder-check:
	rm -rf .venv-binder
	python3 -m venv .venv-binder
	.venv-binder/bin/python -m pip install -q --upgrade pip
	.venv-binder/bin/python -m pip install -q -r binder/requirements.txt
	PATH="$(CURDIR)/.venv-binder/bin:$$PATH" bash binder/postBuild
	.venv-binder/bin/python -m pip install -q pytest nbval
	HF_HUB_OFFLINE=1 .venv-binder/bin/pytest -o addopts="" -p no:cacheprovider --nbval \
	  --nbval-current-env --nbval-sanitize-with=tests/nbval_sanitize.cfg notebooks

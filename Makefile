# The README's two commands: `make lab` and `make test`. Both create .venv on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
EXTENSIONS := $(wildcard extensions/*/pyproject.toml)

.PHONY: install lab test test-portable lint binder-check clean

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

# The notebooks and the numerically sensitive tests once more, with the numerics of another
# machine, so that an output or a bound that holds only on this CPU fails here before a user
# meets it: CTranslate2's generic kernels (CT2_FORCE_CPU_ISA), OpenBLAS's kernels for another
# core type than this CPU's (OPENBLAS_CORETYPE; checked to take effect), numpy without its
# AVX-512 loops (NPY_DISABLE_CPU_FEATURES) and one thread everywhere. .ci/run runs it after
# `make test`; PORTABLE_CORETYPE=Prescott (for example) picks the OpenBLAS core type.
PORTABLE_TESTS := notebooks tests/valuation/test_valuation_fastpath.py \
  tests/valuation/test_valuation_exact.py tests/transcribe/test_transcribe_transcriber.py \
  tests/transcribe/test_transcribe_window.py tests/transcribe/test_transcribe_streaming.py \
  tests/transcribe/test_transcribe_model.py tests/coldstart/test_coldstart_forecaster.py \
  tests/indb/test_indb_sql_compile.py tests/indb/test_indb_nan.py tests/privacy \
  tests/edge/test_edge_export.py
PORTABLE_ENV := HF_HUB_OFFLINE=1 CT2_FORCE_CPU_ISA=GENERIC \
  NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" \
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
# OpenBLAS's kernels in use: this CPU's, or those OPENBLAS_CORETYPE forces.
BLAS_CORE := import threadpoolctl, numpy; print(next(i["architecture"] for i in \
  threadpoolctl.threadpool_info() if i["internal_api"] == "openblas"))

test-portable: install
	@native=$$($(PY) -c '$(BLAS_CORE)'); \
	case "$$native" in Haswell|Zen) other=Prescott;; *) other=Haswell;; esac; \
	core=$${PORTABLE_CORETYPE:-$$other}; \
	used=$$(OPENBLAS_CORETYPE=$$core $(PY) -c '$(BLAS_CORE)'); \
	echo "test-portable: OpenBLAS $$used kernels (this CPU: $$native), CTranslate2 GENERIC," \
	  "numpy without AVX-512, 1 thread"; \
	if [ "$$used" = "$$native" ]; then \
	  echo "OPENBLAS_CORETYPE=$$core did not change OpenBLAS's kernels ($$native)" >&2; exit 1; fi; \
	$(PORTABLE_ENV) OPENBLAS_CORETYPE=$$core $(VENV)/bin/pytest $(PORTABLE_TESTS)

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

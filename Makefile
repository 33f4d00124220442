# katib-nas: `make demo` runs a real architecture search; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS := enas,trials,runner,dev

.PHONY: install test demo demo-darts lint proto bench check-images clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@command -v dot >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && apt-get install -y -qq graphviz >/dev/null; } || \
	  echo "note: graphviz's 'dot' is not installed; cell pictures are written as .dot sources"
	touch $(STAMP)

test: install
	$(PY) -m pytest -q

demo: install
	$(VENV)/bin/katib-nas run examples/enas-local.yaml --workdir runs/enas-demo

demo-darts: install
	$(VENV)/bin/katib-nas run examples/darts-local.yaml --workdir runs/darts-demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy katib_nas

proto: install
	$(PY) -m grpc_tools.protoc -Iproto --python_out=. --pyi_out=. --grpc_python_out=. \
	  proto/katib_nas/api/api.proto

bench: install
	for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

check-images: install
	$(PY) scripts/check_images.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

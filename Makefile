# Two entry points a newcomer needs: `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench serve clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || ( $(PY) -m venv $(VENV) 2>/dev/null || python3 -m venv $(VENV) )
	@echo "==> installing wxrisk and its pinned dependencies into $(VENV)"
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/wxrisk demo --serve

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/wxrisk bench

# A local Prefect server (UI at http://127.0.0.1:4200) and the scheduled deployments.
serve: $(STAMP)
	@mkdir -p data
	$(BIN)/prefect server start --host 127.0.0.1 --port 4200 > data/prefect-server.log 2>&1 &
	@until curl -sf http://127.0.0.1:4200/api/health >/dev/null; do sleep 1; done
	PREFECT_API_URL=http://127.0.0.1:4200/api $(BIN)/python -m wxrisk.flows.deployments

clean:
	rm -rf data/demo data/wxrisk.duckdb data/boards

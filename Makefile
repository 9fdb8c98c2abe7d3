# Two commands do everything: `make run` and `make test`. Both set themselves up (scripts/setup.sh).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test setup bench screenshot clean

$(VENV)/.installed: pyproject.toml scripts/setup.sh packaging/debian-packages.txt
	@VENV=$(VENV) scripts/setup.sh

setup: $(VENV)/.installed

run: setup  ## launch the app on the bundled example
	$(PY) -m vocoder_studio

test: setup  ## ruff, mypy, lint-imports and the whole pytest suite
	@VENV=$(VENV) scripts/test.sh

bench: setup  ## speed, latency and memory figures
	$(PY) -m vocoder_studio bench

screenshot: setup  ## build/screenshot.png of the real window under Xvfb
	scripts/screenshot.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

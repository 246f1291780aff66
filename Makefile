# linemon: `make run` starts the demo, `make test` runs the whole suite. Both set up everything
# they need on a fresh machine (a .venv with the project, and the system tools the tests use).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_TOOLS := mosquitto:mosquitto socat:socat chromium:chromium victoria-metrics:victoria-metrics

.PHONY: run test lint bench i18n system venv clean

run: $(STAMP)
	$(BIN)/linemon run

test: $(STAMP) system
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Messages for translators: every t("...") and N_("...") into the template, merged into each
# language's catalog (line/locale/<lang>/LC_MESSAGES/linemon.po); new entries are then translated
# there (tests/test_i18n.py fails while one has no Korean).
i18n: $(STAMP)
	$(BIN)/pybabel -q extract -k t -k N_ --no-default-keywords --no-location --sort-output \
	  --project=linemon -o line/locale/linemon.pot dashboard line linemon
	$(BIN)/pybabel -q update -i line/locale/linemon.pot -d line/locale -D linemon --no-fuzzy-matching --ignore-obsolete

venv: $(STAMP)

# Re-install only when the project definition changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# System tools the tests drive for real (and PostgreSQL, whose server programs Debian keeps off
# PATH). Installed with apt when missing and running as root.
system:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
	  cmd=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "The tests need these system packages:$$missing"; \
	    echo "Install them (Debian/Ubuntu: sudo apt-get install$$missing) and run make test again."; \
	    exit 1; \
	  fi; \
	fi; \
	if ! fc-list 2>/dev/null | grep -qi nanum; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing fonts-nanum (Korean labels in the dashboard screenshots)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-nanum >/dev/null 2>&1 || \
	      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-nanum >/dev/null; }; \
	  else \
	    echo "note: without a Korean font (Debian: fonts-nanum) the screenshots show Korean as boxes"; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache

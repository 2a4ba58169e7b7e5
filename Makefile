# The two commands: `make run` serves the demo, `make test` runs every test.
# Both set up everything they need first (virtualenv, packages, esbuild for the widget's
# bundle, Chromium for browser tests).

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# JavaScript the browser tests load into pages (axe-core, the hostile host's htmx 2).
BROWSER_JS := tests/browser/node_modules/.installed

.PHONY: run test install esbuild chromium wrk bench clean messages

run: install esbuild
	$(PY) -m app dev

test: install esbuild chromium wrk $(BROWSER_JS)
	$(PY) -m pytest $(PYTEST_ARGS)

# The server's capacity under wrk (a C load generator that is not the bottleneck), per route:
# req/s, p50/p99, web and database CPU and round trips per request (docs/PERFORMANCE.md).
bench: install esbuild wrk
	$(PY) -m bench.capacity

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		echo "Installing Debian's python3-venv (venv needs it)"; rm -rf $(VENV); \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv >/dev/null; \
		$(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[embedded,test]'
	touch $(STAMP)

# Debian's esbuild bundles the widget's modules (cdn/build.py): make run and the tests build dist/.
esbuild:
	@command -v esbuild >/dev/null 2>&1 || { \
		echo "Installing Debian's esbuild for the widget's bundle"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq esbuild >/dev/null; }

# Debian's wrk loads the server in bench/capacity.py (the tests run it at a tiny size too).
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		echo "Installing Debian's wrk for the capacity benchmark"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

# Debian's Chromium drives the browser tests (Playwright cannot download its own browser here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

$(BROWSER_JS): tests/browser/package.json tests/browser/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
		echo "Installing Debian's npm for the browser tests' JavaScript"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null; }
	npm ci --prefix tests/browser --no-audit --no-fund --silent
	touch $@

# The widget's words (babel.cfg says where they are) extracted into app/translations/messages.pot,
# and each language's catalogue (app/translations/<locale>/LC_MESSAGES/messages.po) updated:
# new words arrive with an empty msgstr for designers to translate (tests/test_languages.py
# fails until they are). The server reads the .po files as they are; nothing to compile.
messages: install
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k N_ --no-location --sort-output --omit-header -o app/translations/messages.pot .
	$(VENV)/bin/pybabel -q update -i app/translations/messages.pot -d app/translations --ignore-obsolete

clean:
	rm -rf $(VENV) var .pytest_cache tests/browser/node_modules tests/artifacts

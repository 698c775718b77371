# Harbor: `make run` starts the whole shop, `make test` runs the whole suite.
# Both work on a bare machine with Python 3.11 and make: they create .venv/ and start
# embedded PostgreSQL / Redis / localstripe for any of DATABASE_URL, REDIS_URL,
# STRIPE_API_BASE that is unset.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test audit bench cluster-test install install-dev chromium promtool wrk node clean

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when a requirements file changes.
$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: $(VENV)/.installed
	$(PY) -m harbor.devservices run

test: $(VENV)/.installed-dev chromium promtool node_modules/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

# The pages' audit alone (Lighthouse and axe-core on the live shop; also part of `make test`).
audit: $(VENV)/.installed-dev chromium node_modules/.installed
	$(PY) -m pytest tests/browser/test_audit.py -s $(PYTEST_ARGS)

# Lighthouse, axe-core and playwright-core for the audit, exactly as package-lock.json pins them,
# into ./node_modules (no install scripts run: nothing is downloaded beyond the packages).
node_modules/.installed: package.json package-lock.json | node
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

node:
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's nodejs and npm for the page audit"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q nodejs npm >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q nodejs npm >/dev/null; } \
	      || { echo "make: could not install nodejs and npm with apt-get" >&2; exit 1; }; \
	  else echo "make test: the page audit needs Node.js 18.16 or newer and npm (apt-get install nodejs npm)" >&2; exit 1; fi; }

# `make bench`: never part of `make test`. Writes var/bench/ (and docs/bench/ for the README).
$(VENV)/.installed-bench: requirements-bench.txt requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-bench.txt
	touch $@

bench: $(VENV)/.installed $(VENV)/.installed-bench wrk
	$(PY) -m loadtest.bench $(BENCH_ARGS)

# `make cluster-test`: never part of `make test`. The multi-host harness (tests/cluster/): a
# three-node RabbitMQ cluster and the shop's hosts in network namespaces, five faults during a
# stream of orders, one table per scenario (var/cluster/results.md). Needs root. CLUSTER_ARGS:
# e.g. --orders 1000, --scenario ab, --rate 4 (the defaults: 300 orders per scenario at 4/s).
cluster-test: $(VENV)/.installed-dev
	@[ "$$(id -u)" = 0 ] || { echo "make cluster-test needs root (network namespaces, a bridge, veth pairs): run it as root, e.g. sudo make cluster-test" >&2; exit 1; }
	@command -v ip >/dev/null || { echo "make cluster-test needs ip (apt-get install iproute2)" >&2; exit 1; }
	@[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || { \
	  echo "Installing Debian's rabbitmq-server for the cluster harness"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q rabbitmq-server >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q rabbitmq-server >/dev/null; } \
	    || { echo "make cluster-test: could not install rabbitmq-server with apt-get" >&2; exit 1; }; }
	$(PY) -m tests.cluster $(CLUSTER_ARGS)

wrk:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's wrk for the benchmark"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null 2>&1 \
	      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null; }; \
	  else echo "make bench needs wrk (apt-get install wrk)" >&2; exit 1; fi; }

chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } \
	      || { echo "make test: could not install chromium with apt-get" >&2; exit 1; }; \
	  else \
	    echo "make test: the browser tests need $(CHROMIUM): install Debian's chromium package (as root: apt-get install chromium), or set CHROMIUM=/path/to/chromium" >&2; exit 1; \
	  fi; \
	fi

# promtool checks deploy/alerts.yml and deploy/prometheus.yml and runs the alert rules' unit tests.
promtool:
	@command -v promtool >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's prometheus (for promtool)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1 \
	      || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends prometheus >/dev/null; } \
	      || { echo "make test: could not install prometheus (promtool) with apt-get" >&2; exit 1; }; \
	  else echo "make test: the alert rules' tests need promtool: install Debian's prometheus package" >&2; exit 1; fi; }

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis node_modules

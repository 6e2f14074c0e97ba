# medai-edu — two commands for everyone:
#   make lab    set up (once) and open the course in JupyterLab (as a student sees it; INSTRUCTOR=1: with nbgrader's tools)
#   make test   set up (once) and run the whole test suite (browser tests included)
#   make demo   code-free demo of the lessons for lectures (Voilà), offline
# Instructors: make grade LESSON=00_welcome [WORKERS=2]   (autograde a class, each submission isolated)
#   make collect LESSON=00_welcome FROM=download.zip PLATFORM=moodle|canvas; make formgrader (grading by hand)
# Headless lab (servers, CI, remote machines):  make lab HEADLESS=1 PORT=8888 TOKEN=secret
# A class on this machine (root): make hub ROSTER=roster.csv [HUB_PORT=8000 IP=127.0.0.1]  (docs/hub.md)
#   HTTPS: SSL_CERT=fullchain.pem SSL_KEY=privkey.pem; log-in from Moodle/Canvas: LTI=lti.json

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.medai-edu-installed
TORCH  := torch==2.13.0
KERNEL := medai-edu
# Offline-friendly JupyterLab: no extension manager, news or update checks reaching out.
LAB_CONFIG := jupyter-config/medai-edu.json
LAB_SETTINGS := jupyter-config/overrides.json
# The formgrader's manual-grading page forbids inline script (a Jupyter server extension, issue 24).
FORMGRADER_CSP := jupyter-config/instructor/jupyter_server_config.d/medai-edu-formgrader-csp.json
# Browser tests: Playwright drives Debian's Chromium (Playwright's own browser downloads are not
# possible everywhere); axe-core checks accessibility. Pinned.
BROWSER_STAMP := $(VENV)/.medai-edu-browser
PLAYWRIGHT := playwright==1.65.2
AXE := axe-core@4.14.1
APT_PACKAGES := chromium fonts-noto-color-emoji
# Binder rehearsal: binder/'s packages fetched once at set-up; the test installs them offline.
BINDER_WHEELS := $(VENV)/binder-wheels
BINDER_STAMP := $(VENV)/.medai-edu-binder-wheels

PORT   ?= 8888
TOKEN  ?=
IP     ?= 127.0.0.1
HEADLESS ?=
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_FLAGS := --ServerApp.root_dir=course --port=$(PORT) --ip=$(IP) $(ROOT_FLAG) \
	$(if $(HEADLESS),--no-browser --IdentityProvider.token='$(TOKEN)',)

.PHONY: lab test demo release install browser clean-venv isolation grade constraints hub formgrader collect

# The class JupyterHub (docs/hub.md): JupyterHub, the LTI authenticator and idle culler from PyPI (the
# `hub` extra, pinned in constraints.txt); configurable-http-proxy from npm into the venv, not globally.
HUB_STAMP := $(VENV)/.medai-edu-hub
# Students' kernels on the hub: a second environment with the library alone (no course operations, no
# JupyterHub); its kernelspecs come first on every server's JUPYTER_PATH (ops/medai_edu_ops/hub/config.py).
KERNEL_VENV := $(VENV)/kernel
HUB_PROXY := configurable-http-proxy@5.3.0
HUB_ROOT  ?= /srv/medai-edu
HUB_PORT  ?= 8000
ROSTER    ?=
SSL_CERT  ?=
SSL_KEY   ?=
LTI       ?=

LESSON  ?=
WORKERS ?= 2
# Grading isolates student code with bubblewrap (Debian/Ubuntu package `bubblewrap`).
INSTALL_BWRAP := if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && apt-get install -y -qq bubblewrap) >/dev/null; \
	else echo "bubblewrap is missing: install it (e.g. sudo apt-get install bubblewrap) so that grading can isolate student code"; fi

install: $(STAMP)

# Re-runs only when the package definition changes; a second `make` installs nothing.
$(STAMP): pyproject.toml ops/pyproject.toml constraints.txt $(LAB_CONFIG) $(LAB_SETTINGS) $(FORMGRADER_CSP)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e . -e "./ops[test]" "$(TORCH)"
	@! $(BIN)/python -m pip show --quiet torchvision 2>/dev/null || \
		{ echo "torchvision was installed: the course must not depend on it"; exit 1; }
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) \
		--display-name "Python 3 (medai-edu)"
	rm -f $(VENV)/etc/jupyter/jupyter_server_config.d/medai-edu.json  # older place: JupyterLab ignored it
	install -d $(VENV)/etc/jupyter $(VENV)/share/jupyter/lab/settings  # two steps: the one-step flag is GNU-only, and macOS runs this too
	install -m 644 $(LAB_CONFIG) $(VENV)/etc/jupyter/jupyter_lab_config.json
	install -m 644 $(LAB_SETTINGS) $(VENV)/share/jupyter/lab/settings/overrides.json
	install -d $(VENV)/etc/jupyter/jupyter_server_config.d
	install -m 644 $(FORMGRADER_CSP) $(VENV)/etc/jupyter/jupyter_server_config.d/medai-edu-formgrader-csp.json
	touch $@

$(BINDER_STAMP): binder/environment.yml $(STAMP)
	rm -rf $(BINDER_WHEELS)
	$(BIN)/python binder/rehearse.py --download $(BINDER_WHEELS)
	touch $@

# Chromium and the emoji font from Debian (as root, only when missing), Playwright and axe-core
# pinned. Without root or apt-get the browser tests skip, saying why.
browser: $(BROWSER_STAMP)

$(BROWSER_STAMP): $(STAMP)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing$$missing from Debian (browser tests)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else echo "Not installing$$missing (needs root and apt-get): the browser tests will skip"; fi; \
	fi
	$(BIN)/python -m pip install --quiet "$(PLAYWRIGHT)"
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; } || true
	@if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix $(VENV)/axe $(AXE); \
	else echo "No npm for axe-core: the browser tests will skip"; fi
	@if command -v chromium >/dev/null && [ -f $(VENV)/axe/node_modules/axe-core/axe.min.js ]; then touch $@; fi

$(HUB_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e . -e "./ops[test,hub]" "$(TORCH)"
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; } || true
	npm install --silent --no-audit --no-fund --prefix $(VENV)/hub-proxy $(HUB_PROXY)
	test -x $(KERNEL_VENV)/bin/python || $(PYTHON) -m venv $(KERNEL_VENV)
	$(KERNEL_VENV)/bin/python -m pip install --quiet $(TORCH)
	$(KERNEL_VENV)/bin/python -m pip install --quiet -c constraints.txt -e . "$(TORCH)"
	@# python3 too: ipykernel's own spec says "python", which a server resolves to its own (the course's) Python.
	$(KERNEL_VENV)/bin/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python 3 (medai-edu)"
	$(KERNEL_VENV)/bin/python -m ipykernel install --sys-prefix --name python3
	touch $@

# As root: the hub's folders, the shared cache (data and results; built again at every start: it verifies
# what is there, adds what a course update keys anew and removes what no lesson reads), the roster's accounts (and the students'
# one-time sign-up codes, the instructor's password), then the hub.
hub: $(HUB_STAMP) isolation
	@test "$$(id -u)" = 0 || { echo "make hub runs as root: it creates the students' accounts and starts each server as its user"; exit 2; }
	$(BIN)/medai-edu hub setup --root $(HUB_ROOT) --ip $(IP) --port $(HUB_PORT) \
		$(if $(SSL_CERT),--ssl-cert $(SSL_CERT) --ssl-key $(SSL_KEY),) $(if $(LTI),--lti $(LTI),)
	$(BIN)/medai-edu cache build --into $(HUB_ROOT)/cache --no-progress
	$(if $(ROSTER),$(BIN)/medai-edu hub add-users $(ROSTER) --root $(HUB_ROOT),)
	$(BIN)/medai-edu hub start --root $(HUB_ROOT)

# Students' JupyterLab: nbgrader's instructor tools switched off (jupyter-config/student, ops/medai_edu_ops/lab.py);
# INSTRUCTOR=1 keeps them (Create Assignment, Validate, formgrader).
lab: $(STAMP)
	$(if $(INSTRUCTOR),,JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter-config/student$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}") \
		PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab $(LAB_FLAGS)

# Manual grading: nbgrader's formgrader at http://$(IP):$(PORT)/formgrader, served from this course folder
# (docs/instructors.md). No exchange here (a learning platform hands out and collects): its listing is off.
formgrader: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --ServerApp.default_url=/formgrader \
		--port=$(PORT) --ip=$(IP) $(ROOT_FLAG) $(if $(HEADLESS),--no-browser --IdentityProvider.token='$(TOKEN)',) \
		--ServerApp.jpserver_extensions=nbgrader.server_extensions.assignment_list=False \
		--ServerApp.jpserver_extensions=nbgrader.server_extensions.course_list=False \
		--ExchangeFactory.list=medai_edu_ops.grading.no_exchange.NoExchangeList

# A learning platform's download into submitted/<student>/$(LESSON)/: make collect LESSON=04_uncertainty FROM=download.zip [PLATFORM=moodle]
collect: $(STAMP)
	@test -n "$(LESSON)" -a -n "$(FROM)" || { echo "usage: make collect LESSON=00_welcome FROM=submissions.zip [PLATFORM=moodle|canvas]"; exit 2; }
	$(BIN)/medai-edu collect $(LESSON) "$(FROM)" $(if $(PLATFORM),--platform $(PLATFORM),)

# Installs bubblewrap when it is missing (as root, with apt-get); otherwise says how.
isolation:
	@command -v bwrap >/dev/null 2>&1 || { $(INSTALL_BWRAP); }

test: $(STAMP) $(BROWSER_STAMP) $(BINDER_STAMP) $(HUB_STAMP) isolation
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Autograde every submitted/<student>/$(LESSON)/ (medai-edu sets up nbgrader's PATH itself).
grade: $(STAMP) isolation
	@test -n "$(LESSON)" || { echo "usage: make grade LESSON=00_welcome [WORKERS=2]"; exit 2; }
	$(BIN)/medai-edu grade $(LESSON) --workers $(WORKERS) $(GRADE_ARGS)

# The lessons' figures and explorers without code, for lectures (Voilà): `make demo LESSON=01` for one.
demo: $(STAMP)
	$(BIN)/medai-edu demo $(LESSON) --port $(if $(filter 8888,$(PORT)),8866,$(PORT)) --ip $(IP) $(if $(HEADLESS),--no-browser,)

# Regenerate the student notebooks in course/ from the instructor notebooks in solutions/.
# PROGRAMMERS=1: the optional "For programmers" exercises earn points too (default: the core path only).
release: $(STAMP)
	$(BIN)/python -m medai_edu_ops.release $(if $(filter 1,$(PROGRAMMERS)),--programmers,)

# Refresh constraints.txt from the installed set-up, after `make test` passed with it (torch stays
# pinned by TORCH above: its local build tag differs between platforms).
constraints:
	@test -x $(BIN)/python || { echo "run make install first"; exit 1; }
	{ echo "# Exact versions \`make test\` passed with (Python $$($(BIN)/python -c 'import platform; print(platform.python_version())'), $$(date +%Y-%m-%d))."; \
	  echo "# make installs with -c constraints.txt; refresh with \`make constraints\` after a green make test."; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v -i -E '^(torch|medai-edu)=='; } > constraints.txt

clean-venv:
	rm -rf $(VENV)

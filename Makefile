# medai-edu — two commands for everyone:
#   make lab    set up (once) and open the course in JupyterLab
#   make test   set up (once) and run the whole test suite
# Instructors: make grade LESSON=00_welcome [WORKERS=2]   (autograde a class, each submission isolated)
# Headless lab (servers, CI, remote machines):  make lab HEADLESS=1 PORT=8888 TOKEN=secret

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.medai-edu-installed
TORCH  := torch==2.13.0
KERNEL := medai-edu
# Offline-friendly JupyterLab: no extension manager, news or update checks reaching out.
LAB_CONFIG := jupyter-config/medai-edu.json

PORT   ?= 8888
TOKEN  ?=
IP     ?= 127.0.0.1
HEADLESS ?=
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_FLAGS := --ServerApp.root_dir=course --port=$(PORT) --ip=$(IP) $(ROOT_FLAG) \
	$(if $(HEADLESS),--no-browser --IdentityProvider.token='$(TOKEN)',)

.PHONY: lab test release install clean-venv isolation grade

LESSON  ?=
WORKERS ?= 2
# Grading isolates student code with bubblewrap (Debian/Ubuntu package `bubblewrap`).
INSTALL_BWRAP := if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && apt-get install -y -qq bubblewrap) >/dev/null; \
	else echo "bubblewrap is missing: install it (e.g. sudo apt-get install bubblewrap) so that grading can isolate student code"; fi

install: $(STAMP)

# Re-runs only when the package definition changes; a second `make` installs nothing.
$(STAMP): pyproject.toml $(LAB_CONFIG)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e . "$(TORCH)"
	@! $(BIN)/python -m pip show --quiet torchvision 2>/dev/null || \
		{ echo "torchvision was installed: the course must not depend on it"; exit 1; }
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) \
		--display-name "Python 3 (medai-edu)"
	install -D -m 644 $(LAB_CONFIG) $(VENV)/etc/jupyter/jupyter_server_config.d/medai-edu.json
	touch $@

lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_FLAGS)

# Installs bubblewrap when it is missing (as root, with apt-get); otherwise says how.
isolation:
	@command -v bwrap >/dev/null 2>&1 || { $(INSTALL_BWRAP); }

test: $(STAMP) isolation
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Autograde every submitted/<student>/$(LESSON)/ (medai-edu sets up nbgrader's PATH itself).
grade: $(STAMP) isolation
	@test -n "$(LESSON)" || { echo "usage: make grade LESSON=00_welcome [WORKERS=2]"; exit 2; }
	$(BIN)/medai-edu grade $(LESSON) --workers $(WORKERS) $(GRADE_ARGS)

# Regenerate the student notebooks in course/ from the instructor notebooks in solutions/.
release: $(STAMP)
	$(BIN)/python -m medai_edu.release

clean-venv:
	rm -rf $(VENV)

# medai-edu — two commands for everyone:
#   make lab    set up (once) and open the course in JupyterLab
#   make test   set up (once) and run the whole test suite
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

.PHONY: lab test release install clean-venv

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

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Regenerate the student notebooks in course/ from the instructor notebooks in solutions/.
release: $(STAMP)
	$(BIN)/python -m medai_edu.release

clean-venv:
	rm -rf $(VENV)

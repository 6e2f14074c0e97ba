"""The course seen as users see it: JupyterLab and the Voilà demo driven in Chromium (tests and `bench browser`).

Needs Playwright for Python and Debian's Chromium, which `make test` installs; nothing here is
imported by ``import medai_edu``."""

"""A JupyterHub for a whole class on one machine (`make hub`, `medai-edu hub ...`).

- :mod:`.settings` what a hub is: address, folders, limits, TLS, how people log in (one JSON file);
- :mod:`.accounts` who may log in: roster, hashed passwords, one-time sign-up codes (read at every login);
- :mod:`.roster`   local accounts from a roster CSV, the instructor's private course folder, removals;
- :mod:`.sheets`   the sign-up codes as a CSV and printable slips for the instructor;
- :mod:`.lti`      which account an LTI 1.3 launch from the learning platform opens;
- :mod:`.auth`     the two JupyterHub authenticators (codes and passwords; LTI) and the sign-up page;
- :mod:`.limits`   per-user memory and CPU limits with cgroups (v2 or v1), set before the server starts;
- :mod:`.spawner`  the spawner: limits, lesson copies at first spawn, per-role Jupyter config;
- :mod:`.config`   applies the settings to JupyterHub's config (``deploy/hub/jupyterhub_config.py``);
- :mod:`.launch`   writes the shared folders and starts the hub (also for tests and load tests).

Nothing here is imported by ``import medai_edu``; JupyterHub is imported only inside the hub process.
"""

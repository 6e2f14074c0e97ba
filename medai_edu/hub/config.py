"""JupyterHub's configuration for a class, from :class:`~medai_edu.hub.settings.HubSettings`.

``deploy/hub/jupyterhub_config.py`` calls :func:`apply`; a test or load test starts the same hub with
other settings (a dummy authenticator, test users, another port).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from medai_edu.hub.settings import HubSettings


def spawner_environment(settings: HubSettings) -> dict[str, str]:
    """Environment every user's server gets (the per-role Jupyter config is added per user)."""
    bin_dir = str(Path(settings.python).parent)
    return {
        "MEDAI_EDU_SHARED_CACHE": str(settings.shared_cache),
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",  # medai-edu and nbgrader in the terminal
    }


def role_of(settings: HubSettings, username: str) -> str:
    return "instructor" if username == settings.instructor else "student"


def _per_user_environment(settings: HubSettings):
    def environment(spawner) -> None:  # pre_spawn_hook: the role decides config and graded mode
        role = role_of(settings, spawner.user.name)
        extra = {"JUPYTER_CONFIG_PATH": str(settings.role_config(role))}
        if role == "student" and settings.graded:
            extra["MEDAI_EDU_GRADED"] = "1"
        spawner.environment = {**spawner.environment, **extra}  # a new dict: never shared between users

    return environment


def _authenticator(c, settings: HubSettings) -> None:
    if settings.authenticator == "dummy":  # tests and load tests only: one shared password
        c.JupyterHub.authenticator_class = "dummy"
        c.DummyAuthenticator.password = settings.dummy_password
    else:  # first login sets the password; only roster names may log in
        c.JupyterHub.authenticator_class = "firstuseauthenticator.FirstUseAuthenticator"
        c.FirstUseAuthenticator.create_users = False
        c.FirstUseAuthenticator.dbm_path = str(settings.state / "passwords.dbm")
        c.FirstUseAuthenticator.min_password_length = 8
    c.Authenticator.allowed_users = set(settings.users)
    c.Authenticator.admin_users = {settings.instructor} if settings.instructor else set()


def _idle_culler(c, settings: HubSettings) -> None:
    c.JupyterHub.services = [
        {
            "name": "idle-culler",
            "command": [
                settings.python,
                "-m",
                "jupyterhub_idle_culler",
                f"--timeout={settings.cull_timeout}",
                f"--cull-every={settings.cull_every}",
            ],
        }
    ]
    c.JupyterHub.load_roles = [
        {
            "name": "idle-culler",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        }
    ]


def _load_test_service(c, settings: HubSettings) -> None:
    """`medai-edu bench hub`: a service whose token creates users, starts their servers and runs kernels."""
    if not settings.load_test_token:
        return
    c.JupyterHub.services.append({"name": "load-test", "api_token": settings.load_test_token})
    c.JupyterHub.load_roles.append(
        {
            "name": "load-test",
            "scopes": ["admin:users", "admin:servers", "access:servers", "list:users"],
            "services": ["load-test"],
        }
    )


def apply(c, settings: HubSettings) -> None:
    """Set JupyterHub's config object ``c`` for this class."""
    c.JupyterHub.bind_url = f"http://{settings.ip}:{settings.port}/"
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = settings.hub_port or settings.port + 1
    c.ConfigurableHTTPProxy.command = [settings.proxy]
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port or settings.port + 2}"
    c.JupyterHub.db_url = f"sqlite:///{settings.state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(settings.state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(settings.state / "jupyterhub.pid")
    c.ConfigurableHTTPProxy.pid_file = str(settings.state / "proxy.pid")
    c.ConfigurableHTTPProxy.auth_token = _proxy_token(settings)
    _authenticator(c, settings)
    c.JupyterHub.spawner_class = "medai_edu.hub.spawner.CourseSpawner"
    c.Spawner.cmd = [str(Path(settings.python).parent / "jupyterhub-singleuser")]
    c.Spawner.default_url = "/lab"
    c.Spawner.notebook_dir = "~"
    c.Spawner.mem_limit = settings.mem_limit
    c.Spawner.cpu_limit = settings.cpu_limit
    c.Spawner.environment = spawner_environment(settings)
    c.Spawner.pre_spawn_hook = _per_user_environment(settings)
    # JupyterLab took 10-60 s to start on a 2-core machine at load 4-5, and over 120 s at load 10.
    c.Spawner.start_timeout = 300
    c.Spawner.http_timeout = 300
    c.CourseSpawner.lessons_source = str(settings.course / "course")
    _idle_culler(c, settings)
    _load_test_service(c, settings)


def _proxy_token(settings: HubSettings) -> str:
    """A token shared by hub and proxy, kept in the state folder (mode 600) so a restarted hub finds its proxy."""
    path = settings.state / "proxy_token"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()

"""JupyterHub's configuration for a class, from :class:`~medai_edu_ops.hub.settings.HubSettings`.

``deploy/hub/jupyterhub_config.py`` calls :func:`apply`; a test or load test starts the same hub with
other settings (test users, other ports, a test certificate, a stand-in learning platform).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from medai_edu_ops.hub.settings import LTI_USERNAME_CLAIM, HubSettings

if TYPE_CHECKING:
    from jupyterhub.spawner import Spawner
    from traitlets.config import Config

TEMPLATES = Path(__file__).with_name("templates")  # the login page's sign-up link, the sign-up page


def spawner_environment(settings: HubSettings) -> dict[str, str]:
    """Environment every user's server gets (the per-role Jupyter config and PATH are added per user).

    The server itself (JupyterLab, nbgrader's student tools) runs from the course's environment; its
    kernels, found first on JUPYTER_PATH, from the environment that holds the library alone."""
    return {
        "MEDAI_EDU_SHARED_CACHE": str(settings.shared_cache),
        "JUPYTER_PATH": str(settings.kernel_specs),
        "PATH": search_path(settings, "student"),
    }


def role_of(settings: HubSettings, username: str) -> str:
    return "instructor" if username == settings.instructor else "student"


def search_path(settings: HubSettings, role: str) -> str:
    """A terminal's PATH: a student's finds the Python their notebooks run; the instructor's medai-edu and nbgrader."""
    python = settings.python if role == "instructor" else settings.kernel_python
    return f"{Path(python).parent}:/usr/local/bin:/usr/bin:/bin"


def _per_user_environment(settings: HubSettings) -> Callable[[Spawner], None]:
    def environment(spawner: Spawner) -> None:  # pre_spawn_hook: the role decides config, PATH and graded mode
        role = role_of(settings, spawner.user.name)
        extra = {"JUPYTER_CONFIG_PATH": str(settings.role_config(role)), "PATH": search_path(settings, role)}
        if role == "student" and settings.graded:
            extra["MEDAI_EDU_GRADED"] = "1"
        spawner.environment = {**spawner.environment, **extra}  # a new dict: never shared between users

    return environment


def _authenticator(c: Config, settings: HubSettings) -> None:
    """Sign-up codes and passwords, or LTI 1.3 launches; either way the account store says who is in."""
    if settings.authenticator == "lti":
        lti = settings.lti
        c.JupyterHub.authenticator_class = "medai_edu_ops.hub.auth.PlatformAuthenticator"
        c.PlatformAuthenticator.issuer = lti["issuer"]
        c.PlatformAuthenticator.client_id = set(lti["client_id"])
        c.PlatformAuthenticator.deployment_ids = lti["deployment_id"]
        c.PlatformAuthenticator.jwks_endpoint = lti["key_set_url"]
        c.PlatformAuthenticator.authorize_url = lti["authorize_url"]
        c.PlatformAuthenticator.username_key = lti.get("username_claim", LTI_USERNAME_CLAIM)
        c.LTI13LaunchValidator.time_leeway = 10  # seconds of clock difference between platform and hub
        if settings.url.startswith("https://"):  # the platform posts the launch back cross-site: cookies must go
            c.JupyterHub.cookie_options = {"SameSite": "None", "Secure": True}
    else:
        c.JupyterHub.authenticator_class = "medai_edu_ops.hub.auth.CodeAuthenticator"
        c.JupyterHub.template_vars = {"medai_signup": True}
    c.JupyterHub.template_paths = [str(TEMPLATES)]
    c.Authenticator.accounts_db = str(settings.accounts_db)
    c.Authenticator.instructor = settings.instructor
    c.Authenticator.any_allow_config = True  # the account store is the allow-list (check_allowed)
    c.Authenticator.auth_refresh_age = 60  # a removed student's session ends within a minute
    c.Authenticator.delete_invalid_users = True  # students removed while the hub was down are forgotten
    c.Authenticator.admin_users = {settings.instructor} if settings.instructor else set()


def _idle_culler(c: Config, settings: HubSettings) -> None:
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


def _roster_service(c: Config, settings: HubSettings) -> None:
    """`medai-edu hub remove-users`: a token (root only, in the state folder) that stops and forgets users."""
    c.JupyterHub.services.append({"name": "roster", "api_token": settings.secret("roster_token")})
    c.JupyterHub.load_roles.append(
        {"name": "roster", "scopes": ["admin:users", "admin:servers", "list:users"], "services": ["roster"]}
    )


def _load_test_service(c: Config, settings: HubSettings) -> None:
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


def apply(c: Config, settings: HubSettings) -> None:
    """Set JupyterHub's config object ``c`` for this class."""
    c.JupyterHub.bind_url = f"{'https' if settings.ssl_cert else 'http'}://{settings.ip}:{settings.port}/"
    if settings.ssl_cert:  # the proxy serves HTTPS; the hub and servers behind it stay on 127.0.0.1
        c.JupyterHub.ssl_cert = settings.ssl_cert
        c.JupyterHub.ssl_key = settings.ssl_key
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = settings.api_port
    c.ConfigurableHTTPProxy.command = [settings.proxy]
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port or settings.port + 2}"
    c.JupyterHub.db_url = f"sqlite:///{settings.state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(settings.state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(settings.state / "jupyterhub.pid")
    c.ConfigurableHTTPProxy.pid_file = str(settings.state / "proxy.pid")
    c.ConfigurableHTTPProxy.auth_token = settings.secret("proxy_token")  # a restarted hub finds its proxy
    _authenticator(c, settings)
    c.JupyterHub.spawner_class = "medai_edu_ops.hub.spawner.CourseSpawner"
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
    _roster_service(c, settings)
    _load_test_service(c, settings)

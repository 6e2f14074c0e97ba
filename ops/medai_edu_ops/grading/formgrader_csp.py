"""A Content-Security-Policy for the formgrader's pages that show student work (a Jupyter server extension).

nbgrader's manual-grading page renders a student's notebook on the instructor's own origin, where
any script could use the instructor's session (change grades through the formgrader API, write
files through the contents API). The grader already cleans what students wrote
(:mod:`.sanitize`); this extension makes a script that slipped through inert anyway:

- the manual-grading page (``/formgrader/submissions/<id>/``) is rendered from a template without
  inline script (``templates/medai_formgrade``, its handlers in ``static/formgrade-page.js``) and
  sent with a policy that allows scripts only from the formgrader's and this extension's static
  folders: no inline script, no event-handler attributes, no ``javascript:`` URLs, no script from
  elsewhere on the server (such as a file a student handed in);
- the files of a submission that the formgrader serves get ``default-src 'none'; sandbox``.

Enable it on the instructor's server (``jupyter-config/instructor/``, installed by ``make``):
``{"ServerApp": {"jpserver_extensions": {"medai_edu_ops.grading.formgrader_csp": true}}}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.serverapp import ServerApp
    from nbconvert.exporters import HTMLExporter

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
FILES_POLICY = "default-src 'none'; sandbox"


def page_policy(origin: str, base_url: str) -> str:
    """The manual-grading page's policy: scripts only from the two static folders, nothing inline."""
    base = origin + base_url.rstrip("/")
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {base}/formgrader/static/ {base}/medai-edu/static/",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'self'",
            "object-src 'none'",
        ]
    )


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "medai_edu_ops.grading.formgrader_csp"}]


def _exporter(handler: JupyterHandler) -> HTMLExporter:
    """nbgrader's HTML exporter, rendering with the template that has no inline script."""
    settings = handler.settings
    if "medai_edu_exporter" not in settings:
        from nbconvert.exporters import HTMLExporter
        from nbgrader.server_extensions.formgrader import handlers
        from traitlets.config import Config

        config = Config(settings["nbgrader_exporter"].config)
        config.HTMLExporter.template_name = "medai_formgrade"
        config.HTMLExporter.template_file = "medai_formgrade.html.j2"
        config.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), handlers.template_path]
        settings["medai_edu_exporter"] = HTMLExporter(config=config)
    return settings["medai_edu_exporter"]


def _load_jupyter_server_extension(server_app: ServerApp) -> None:
    from jupyter_server.utils import url_path_join
    from nbgrader.server_extensions.formgrader import handlers
    from tornado import web

    def submission_policy(handler: JupyterHandler) -> str:
        return page_policy(f"{handler.request.protocol}://{handler.request.host}", handler.base_url)

    handlers.SubmissionHandler.content_security_policy = property(submission_policy)
    handlers.SubmissionHandler.exporter = property(_exporter)
    handlers.SubmissionFilesHandler.content_security_policy = property(lambda handler: FILES_POLICY)
    web_app = server_app.web_app
    pattern = url_path_join(web_app.settings["base_url"], r"/medai-edu/static/(.*)")
    web_app.add_handlers(".*$", [(pattern, web.StaticFileHandler, {"path": str(STATIC)})])
    server_app.log.info("medai-edu: the formgrader's manual-grading page forbids inline script")

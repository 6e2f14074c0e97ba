"""JupyterHub configuration of the medai-edu class hub (`make hub`).

Everything is in medai_edu/hub/config.py, driven by the settings file that `medai-edu hub setup`
and `medai-edu hub add-users` write ($MEDAI_EDU_HUB_SETTINGS, default /srv/medai-edu/hub/settings.json).
"""

from medai_edu.hub.config import apply
from medai_edu.hub.settings import HubSettings

apply(get_config(), HubSettings.load())  # noqa: F821 - provided by JupyterHub

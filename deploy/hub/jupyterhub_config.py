"""JupyterHub configuration of the medai-edu class hub (`make hub`).

Everything is in ops/medai_edu_ops/hub/config.py, driven by the settings file that `medai-edu hub setup`
and `medai-edu hub add-users` write ($MEDAI_EDU_HUB_SETTINGS, default /srv/medai-edu/hub/settings.json).
"""

import signal

from medai_edu_ops.hub.config import apply
from medai_edu_ops.hub.settings import HubSettings

# Started where Ctrl+C is ignored (nohup, a background job, a CI runner), the hub would pass that on
# to the idle culler and every server it starts: they would ignore its first stop signal and each take
# 10 s more to stop, and a hub stopped in the meantime left the culler running.
signal.signal(signal.SIGINT, signal.default_int_handler)
apply(get_config(), HubSettings.load())  # noqa: F821 - provided by JupyterHub

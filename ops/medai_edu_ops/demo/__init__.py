"""Code-free demos of the lessons for lectures (`medai-edu demo`, `make demo`), served with Voilà.

A demo keeps of a lesson only what a lecture shows: its title, the figures and explorers with
their section headings and captions, and the code they need (hidden). Demos are made anew from
``solutions/`` whenever they are served, so they cannot fall out of step with the lessons.

- :mod:`.build` makes a lesson's demo notebook, :mod:`.prose` cleans its words;
- :mod:`.template` makes the Voilà template (offline, projector-sized, the list of lessons);
- :mod:`.serve` runs Voilà so that every kernel ends with its page;
- :mod:`.kernel` runs inside a demo's kernel.
"""

from medai_edu_ops.demo.build import ROOT, SOLUTIONS, demo_notebook, lessons, resolve, write_demos
from medai_edu_ops.demo.serve import CULL_IDLE_S, addresses, voila_command
from medai_edu_ops.demo.template import CDN, TEMPLATE, install_template

DEMO_FOLDER = ROOT / ".demo"  # made anew by `medai-edu demo` (ignored by git)

__all__ = [
    "CDN",
    "CULL_IDLE_S",
    "DEMO_FOLDER",
    "SOLUTIONS",
    "TEMPLATE",
    "addresses",
    "demo_notebook",
    "install_template",
    "lessons",
    "resolve",
    "voila_command",
    "write_demos",
]

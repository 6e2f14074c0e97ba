"""``python -m medai_edu.training MODEL --out FOLDER`` (see :mod:`medai_edu.training.command`)."""

import sys

from medai_edu.training.command import main

sys.exit(main())

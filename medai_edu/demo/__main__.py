"""``python -m medai_edu.demo TARGET [Voilà options]``: Voilà for the demos (see :mod:`medai_edu.demo.serve`)."""

from medai_edu.demo.serve import main

main()

"""``python -m medai_edu_ops.demo TARGET [Voilà options]``: Voilà for the demos (see :mod:`medai_edu_ops.demo.serve`)."""

from medai_edu_ops.demo.serve import main

main()

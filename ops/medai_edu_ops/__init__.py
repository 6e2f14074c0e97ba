"""medai-edu-ops: running the course around the library.

Releases (:mod:`.release`), grading (:mod:`.grading`), the class hub (:mod:`.hub`), lecture demos
(:mod:`.demo`), benchmarks (:mod:`.benchmarks`), browser drivers (:mod:`.browser`), the students'
JupyterLab (:mod:`.lab`) and the ``medai-edu`` command (:mod:`.cli`). It imports the library
``medai_edu``; the library never imports it (import-linter checks both directions).
"""

"""Grading a whole class with nbgrader, each submission run in an isolated sandbox.

`medai-edu grade LESSON` is the entry point (see :mod:`medai_edu_ops.grading.course`). The pieces:

- :mod:`.plan`     rebuilds each submission on the instructor's notebook: trusted cells come from
                   the source, answers from the student, tampering is found and priced per exercise;
- :mod:`.slicing`  picks the lesson statements that answers and tests depend on;
- :mod:`.sandbox`  the isolation (bubblewrap: own network, filesystem view, resource limits);
- :mod:`.runner`   runs inside the sandbox: executes the plan, restores the test environment
                   before every test cell and reports each cell's outputs;
- :mod:`.execute`  drives the runner from outside: timeouts, crashes, restarts;
- :mod:`.nbgrader_steps`  nbgrader's autograde / feedback / export with the runner's outputs;
- :mod:`.report`   the table and CSV.
"""

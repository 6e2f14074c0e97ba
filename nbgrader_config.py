"""nbgrader settings for medai-edu (run nbgrader commands from this folder).

solutions/ holds the instructor notebooks (solutions + hidden tests); course/ holds the
student versions that `make release` (nbgrader generate_assignment) writes from them.
"""

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = "medai-edu"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
# Data caches and shipped weights live in the package, not next to the notebooks.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.out.ipynb"]

# Autograding runs every notebook in quick mode: nbgrader sets NBGRADER_EXECUTION, and
# medai_edu.notebook.start() turns QUICK on when it sees it.
c.Execute.timeout = 300  # seconds per cell; no quick-mode cell needs more than a few
c.Execute.interrupt_on_timeout = True
c.Execute.kernel_name = "medai-edu"

c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# The course's rules for generate_assignment (ops/medai_edu_ops/release.py): core answers are released as
# `name = ...`; the optional "For programmers" tests get 0 points unless MEDAI_EDU_PROGRAMMERS=1
# (`make release PROGRAMMERS=1`) when the assignment is generated.
from medai_edu_ops.release import course_preprocessors  # noqa: E402

c.GenerateAssignment.preprocessors = course_preprocessors()

# Feedback never shows hidden tests, and its page runs no script (a Content-Security-Policy), also
# when you run `nbgrader generate_feedback` yourself (after manual grading); `medai-edu grade` uses
# the same settings.
from medai_edu_ops.grading.nbgrader_steps import feedback_settings  # noqa: E402

feedback_settings(c)

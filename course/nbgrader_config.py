"""nbgrader configuration of the course.

nbgrader reads this file only from the current directory, so run nbgrader from this folder, or
use ``distcourse``, which does that for you from anywhere in the repository.

Layout: the repository root is nbgrader's course root. ``solutions/`` holds the source notebooks
(solutions and hidden tests: the only hand-edited copy of each lab), ``labs/`` the student release
(committed, so a clone or Binder shows it). Submissions, autograded copies, feedback and the
gradebook live under ``course/`` and are not committed.
"""

from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from distlib.course.preprocessors import DropWarnings, RestoreCells, StripHiddenTests
from distlib.course.sandbox import SandboxedExecute

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

c.CourseDirectory.course_id = "distsys"
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "labs"
c.CourseDirectory.submitted_directory = "course/submitted"
c.CourseDirectory.autograded_directory = "course/autograded"
c.CourseDirectory.feedback_directory = "course/feedback"
c.CourseDirectory.solution_directory = "course/solution"
c.CourseDirectory.db_url = f"sqlite:///{HERE / 'gradebook.db'}"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

# Graded cells are seeded and take well under 10 s; walkthrough cells run simulations of a few
# seconds. A cell stuck in a loop costs its own points after this many seconds, then the kernel
# is interrupted and grading goes on with the next cell.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
c.Execute.allow_errors = True

# Student code is untrusted: autograding runs each submission's kernel in a bubblewrap sandbox
# (distlib/course/sandbox.py) that sees only a scratch copy of that submission, the Python
# environment and the library, with no network and these limits per submission. Measured peaks
# of the labs' solutions are far below them (see the instructor's guide). "auto" grades
# unisolated, with a warning, where no sandbox can be made; "require" refuses instead.
c.SandboxedExecute.sandbox = "auto"
c.SandboxedExecute.memory_mb = 4096  # address space per process
c.SandboxedExecute.cpu_s = 900  # CPU seconds per process
c.SandboxedExecute.processes = 256  # processes at once (a pids cgroup where available)
c.SandboxedExecute.file_mb = 256  # the largest file a submission may write
c.SandboxedExecute.wall_s = 1200  # the whole notebook, beyond the per-cell timeout

# A student who deleted a test cell still has it graded: RestoreCells (nbgrader's OverwriteCells
# with a sturdier restoration) puts every deleted test, locked and written-answer cell back where
# the source notebook has it, so a restored test runs after the cells it needs.
c.OverwriteCells.add_missing_cells = True

# nbgrader scores any stderr output in a test cell as 0. A warning that is not the student's
# fault (a library deprecation, a font cache notice) must not zero a correct answer, so
# DropWarnings removes stderr output that consists only of Python warnings before scores are
# saved. Errors (failed asserts) still score 0.
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    RestoreCells,
    CheckCellMetadata,
]
c.Autograde.autograde_preprocessors = [
    SandboxedExecute,
    DropWarnings,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

# Hidden tests come back into the autograded notebook; the feedback students get must not show
# them (neither their source nor tracebacks quoting it).
c.GenerateFeedback.preprocessors = [GetGrades, StripHiddenTests, CSSHTMLHeaderPreprocessor]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

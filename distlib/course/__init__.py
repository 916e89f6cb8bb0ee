"""``distcourse``: the instructor's command line, a thin layer over nbgrader's Python API."""

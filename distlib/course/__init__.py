"""``distcourse``: the instructor's command line, a thin layer over nbgrader's Python API."""

__all__: list[str] = []  # the commands live in distlib.course.commands and .publish

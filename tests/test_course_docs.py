"""Tests for the course documents in course/*.md: links that work, and a syllabus that covers
every section and question of the source article."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
DOCS = sorted(COURSE.glob("*.md"))

#: Every lab of the course, in teaching order (the folder names are fixed).
LABS = (
    "lab01-models",
    "lab02-compute",
    "lab03-consistency",
    "lab04-storage",
    "lab05-transactions",
    "lab06-paxos",
    "lab07-raft",
    "lab08-resilience",
)

#: Labs that may be linked before their notebooks exist. A link to any other missing file fails,
#: so a typo in a lab name cannot slip through; and once a planned lab has a folder in
#: solutions/, links to it must resolve like any other.
PLANNED_LABS = frozenset(LABS) - {"lab01-models", "lab08-resilience"}

#: Each section and FAQ question of the source article, as the article titles it. Every one must
#: appear in the syllabus on a line that links to the lab teaching it.
ARTICLE = (
    "背景介绍",  # 1. background
    "分布式一致性",  # 2. core concepts
    "分布式事务",
    "分布式存储",
    "分布式计算",
    "主从模型",  # 2.5 system models
    "peer-to-peer模型",
    "客户服务器模型",
    "Paxos算法",  # 3. algorithms
    "Raft算法",
    "Consensus算法",
    "数学模型",  # 3. the mathematical models
    "Pool",  # 4. the code example
    "数据一致性",  # 5. future challenges
    "故障容错",
    "负载均衡",
    "安全性",
    "分布式系统与集中式系统的区别",  # 6. FAQ 1-5
    "分布式系统与并行系统的区别",
    "分布式系统的优缺点",
    "如何选择合适的分布式一致性算法",
    "如何实现分布式系统的高可用性",
)

#: Terms the glossary must give in English and in the article's Chinese.
GLOSSARY_TERMS = (
    "分布式一致性",
    "分布式事务",
    "分布式存储",
    "分布式计算",
    "主从模型",
    "客户服务器模型",
    "领导者选举",
    "日志复制",
    "负载均衡",
    "故障容错",
    "高可用性",
    "两阶段提交",
    "消息认证码",
    "重放攻击",
)

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
LAB_LINK = re.compile(r"\.\./(?:labs|solutions)/(lab\d\d-[a-z0-9-]+)/")


def links(path: Path) -> list[str]:
    """The relative link targets of a markdown file (web links and in-page anchors left out)."""
    out = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        out.append(unquote(target.split("#", 1)[0]))
    return out


def planned_target(target: str) -> bool:
    """Whether ``target`` names a planned lab's folder or notebook, spelled exactly."""
    m = re.fullmatch(r"\.\./(labs|solutions)/([a-z0-9-]+)/?(.*)", target)
    if not m:
        return False
    lab, rest = m.group(2), m.group(3)
    written = (ROOT / "solutions" / lab).is_dir()
    return lab in PLANNED_LABS and not written and rest in ("", f"{lab}.ipynb")


def test_the_course_documents_exist():
    """The syllabus, the glossary and the instructor's guide are all in course/."""
    names = {p.name for p in DOCS}
    assert {"README.md", "glossary.md", "instructors.md"} <= names, f"course/ has only {names}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_relative_link_points_to_a_file_or_a_planned_lab(doc):
    """Relative links resolve from course/; a missing lab is allowed only if it is planned."""
    broken = []
    for target in links(doc):
        if (COURSE / target).exists():
            continue
        if planned_target(target):
            continue
        broken.append(target)
    assert not broken, f"{doc.name} links to files that do not exist: {broken}"


def test_every_written_lab_is_a_lab_of_the_syllabus():
    """Each folder in solutions/ is one of the eight labs the syllabus lists."""
    written = {p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()}
    assert set(LABS) >= written, f"labs not in the syllabus's list: {sorted(written - set(LABS))}"
    assert set(LABS) >= PLANNED_LABS, "a planned lab must be one of LABS"


def test_the_syllabus_links_every_lab_in_order():
    """The lab table of course/README.md links each lab's notebook, in teaching order."""
    text = (COURSE / "README.md").read_text(encoding="utf-8")
    table = text.split("## The article", 1)[0]
    linked = [m for m in LAB_LINK.findall(table)]
    assert linked == list(LABS), f"the lab table should link {list(LABS)} in order, got {linked}"
    for lab in LABS:
        row = next(line for line in table.splitlines() if f"/{lab}/" in line)
        assert re.search(r"\|\s*[\d.]+ h\s*\|", row), f"the row of {lab} gives no time estimate"


@pytest.mark.parametrize("section", ARTICLE)
def test_every_article_section_is_mapped_to_a_lab(section):
    """Each article section or FAQ question appears on a syllabus line that links a lab."""
    text = (COURSE / "README.md").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if section in line]
    assert lines, f"the syllabus does not mention the article's {section!r}"
    assert any(LAB_LINK.search(line) for line in lines), (
        f"the syllabus mentions {section!r} but never on a line linking the lab that teaches it"
    )


def test_the_glossary_gives_each_term_in_chinese_with_a_definition():
    """Each required Chinese term is a glossary row with an English term and a definition."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in (COURSE / "glossary.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("|") and not line.startswith("|---")
    ]
    for term in GLOSSARY_TERMS:
        row = next((r for r in rows if len(r) >= 3 and term in r[1]), None)
        assert row is not None, f"the glossary has no row for {term}"
        assert re.search(r"[A-Za-z]", row[0]), f"{term}: no English term in {row}"
        assert len(row[2].split()) >= 4, f"{term}: the definition {row[2]!r} is too short"


def test_the_instructors_guide_covers_every_distcourse_command():
    """The instructor's guide explains each distcourse subcommand and its --force rule."""
    import argparse

    from distlib.course import commands

    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers())
    names = set(parser._subparsers._group_actions[0].choices)  # the registered subcommands
    text = (COURSE / "instructors.md").read_text(encoding="utf-8")
    missing = [n for n in sorted(names) if f"distcourse {n}" not in text]
    assert not missing, f"instructors.md does not explain: {missing}"
    for word in ("--force", "release_assignment", "collect", "gradebook"):
        assert word in text, f"instructors.md should mention {word}"

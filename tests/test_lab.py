"""Tests of ringgeo.lab: answer key, self-check, and the student copy of notebook 05."""

import pathlib

import nbformat
import numpy as np
import pytest

import ringgeo
from ringgeo import lab
from ringgeo.exceptions import InputError, ParameterError

LAB = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "05_classroom_lab.ipynb"


@pytest.mark.parametrize("value, text", [
    (np.int64(1501), "1,501"), (np.float64(1.2863456), "1.2863"), (np.float64(3.0), "3"),
    (0.5, "0.5"), ("IL", "IL"), ((np.int64(1), np.float64(2.5)), "(1, 2.5)"),
    (float("nan"), "nan"), (True, "True"),
])
def test_plain_never_shows_numpy_types(value, text):
    assert lab.plain(value) == text


@pytest.mark.parametrize("count, text", [(1, "1 county"), (0, "0 counties"),
                                         (np.int64(2), "2 counties"), (1001, "1,001 counties")])
def test_plural_agrees_with_count(count, text):
    assert lab.plural(count, "county", "counties") == text


KEY = {1: 1501, 2: "IL", 3: 1.2863, 4: 407, 5: 170, 6: 0.74, 7: (10, 20), 8: 26}


def test_verdict_blank_answer_is_never_correct():
    for number in lab.QUESTIONS:
        text = lab.verdict(number, None, KEY)
        assert "not answered yet" in text and "correct" not in text
        assert str(KEY[number]) not in text.split(":", 1)[1].replace("this cell", "")


def test_verdict_correct_wrong_and_solutions():
    assert lab.verdict(1, np.int64(1501), KEY) == "question 1: correct: 1,501"
    assert lab.verdict(2, " il ", KEY) == "question 2: correct: il"
    assert lab.verdict(3, 1.2863 + 1e-12, KEY).endswith("correct: 1.2863")
    assert lab.verdict(7, [10, 20], KEY).endswith("correct: [10, 20]")
    wrong = lab.verdict(7, (20, 10), KEY)
    assert "not yet (you wrote (20, 10))" in wrong and "lower bound first" in wrong
    assert "answer key" not in wrong
    assert lab.verdict(7, (20, 10), KEY, solutions=True).endswith("answer key: (10, 20)")
    assert lab.verdict(1, None, KEY, solutions=True).endswith("answer key: 1,501")
    assert "not yet" in lab.verdict(1, "many", KEY)
    assert "not yet" in lab.verdict(1, True, {1: 1})  # a comparison is not a count
    assert "not yet" in lab.verdict(7, 10, KEY)


def test_check_prints(capsys):
    assert lab.check(4, 407, KEY) is None
    assert capsys.readouterr().out == "question 4: correct: 407\n"


def test_verdict_unknown_question():
    with pytest.raises(ParameterError, match="question 9 does not exist.*1, 2, 3"):
        lab.verdict(9, 1, KEY)


def test_teacher_copy_matches_questions():
    nb = nbformat.read(LAB, as_version=4)
    answers = [c for c in nb.cells if lab.ANSWER_TAG in c.metadata.get("tags", [])]
    assert len(answers) == len(lab.QUESTIONS)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert "solutions: bool = True" in params.source
    checks = [c for c in nb.cells if "lab.check(" in c.source]
    assert [c.source.count("solutions=solutions") for c in checks] == [1] * len(lab.QUESTIONS)
    printed = "".join(o.get("text", "") for c in checks for o in c.outputs)
    assert printed.count("correct:") == len(lab.QUESTIONS)


def test_student_copy_blanks_answers_and_drops_teacher_notes():
    teacher = nbformat.read(LAB, as_version=4)
    student = lab.student_copy(teacher)
    assert teacher.cells[0].source == student.cells[0].source  # the teacher copy is untouched
    assert len(student.cells) == len(teacher.cells) - 1  # the teacher note
    assert not any("Teachers:" in c.source for c in student.cells)
    answers = [c for c in student.cells if lab.ANSWER_TAG in c.metadata.get("tags", [])]
    assert [c.source for c in answers] == [f"answer_{n} = None  # your code here"
                                           for n in lab.QUESTIONS]
    params = next(c for c in student.cells if "parameters" in c.metadata.get("tags", []))
    assert "solutions: bool = False" in params.source and "True  #" not in params.source
    code = [c for c in student.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert not any("NBVAL_CHECK_OUTPUT" in c.source for c in code)


def test_student_copy_refuses_other_notebooks():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "x = 1", metadata={"tags": ["parameters"]})])
    with pytest.raises(InputError, match="no `solutions` line"):
        lab.student_copy(nb)
    nb.cells[0].source = "solutions = True"
    nb.cells.append(nbformat.v4.new_code_cell("x = 2", metadata={"tags": ["answer"]}))
    with pytest.raises(InputError, match="assigns no answer_N"):
        lab.student_copy(nb)


def test_write_student_copy_never_overwrites(tmp_path):
    dest = lab.write_student_copy(tmp_path / "lab.ipynb")
    assert nbformat.read(dest, as_version=4).cells[0].cell_type == "markdown"
    with pytest.raises(InputError, match="already exists.*--force"):
        lab.write_student_copy(dest)
    assert lab.write_student_copy(dest, overwrite=True) == dest
    with pytest.raises(InputError, match="end it with .ipynb"):
        lab.write_student_copy(tmp_path / "lab.txt")
    with pytest.raises(InputError, match="does not exist"):
        lab.write_student_copy(tmp_path / "b.ipynb", notebook=tmp_path / "missing.ipynb")
    with pytest.raises(InputError, match="is the teacher copy"):
        lab.write_student_copy(LAB, overwrite=True)


def test_answer_key_real(real_partners):
    key = lab.answer_key(real_partners, state="IL")
    assert key[1] == len(real_partners) == 1501
    assert key[2] == "IL"
    assert key[4] == (real_partners["activated"] <= lab.REPORT_DATE).sum() == 407
    assert key[5] == 170 and key[4] + key[5] < key[1]
    low, high = key[7]
    assert 0 < low <= high < 12_671_821
    assert key[6] == pytest.approx(high / 12_671_821)
    assert all(not isinstance(v, np.generic) for v in key.values())
    # question 8, counted independently: the counties an Illinois county agency names, and
    # those where an Illinois city department's municipality has residents
    parts = ringgeo.load_municipality_parts()
    lived = parts.loc[parts["population"] > 0].groupby("muni_geoid")["county_fips"].agg(set)
    counted = set()
    for fips, muni, juris in zip(real_partners["county_fips"], real_partners["muni_geoid"],
                                 real_partners["jurisdiction_type"]):
        if juris != "county" and isinstance(muni, str) and muni in lived.index:
            counted |= ({c for c in fips if c in lived[muni]} or lived[muni])
        else:
            counted |= set(fips)
    assert key[8] == len({c for c in counted if c.startswith("17")}) == 24


@pytest.mark.slow
def test_student_copy_runs_and_says_not_answered(tmp_path):
    papermill = pytest.importorskip("papermill")
    student = lab.write_student_copy(tmp_path / "student.ipynb")
    done = papermill.execute_notebook(str(student), str(tmp_path / "done.ipynb"),
                                      kernel_name="python3", progress_bar=False)
    printed = "".join(o.get("text", "") for c in done.cells for o in c.get("outputs", []))
    assert printed.count("not answered yet") == len(lab.QUESTIONS)
    assert "correct" not in printed and "answer key" not in printed

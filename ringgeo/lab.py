"""The classroom lab (``notebooks/05_classroom_lab.ipynb``): answer key, self-check, student copy.

The notebook in the repository is the **teacher copy**: its parameters cell sets
``solutions: bool = True`` and every cell tagged ``answer`` holds a worked
answer, so the test suite (nbval) runs it and checks that each self-check
prints ``correct``. ``ringgeo lab --student lab.ipynb`` (:func:`write_student_copy`)
writes the **student copy**: ``solutions: bool = False``, every answer cell
reduced to ``answer_N = None  # your code here``, no outputs, no teacher notes.
Run as is, the student copy prints ``not answered yet`` under every question.

The expected answers are computed here (:func:`answer_key`) from the library,
not in the notebook, and :func:`check` compares a student's answer with them.
With ``solutions=True`` a check also prints the expected value (the answer key),
which a teacher can show after class.
"""

from __future__ import annotations

import math
import numbers
import re
from pathlib import Path

from .exceptions import InputError, ParameterError

__all__ = ["QUESTIONS", "REPORT_DATE", "answer_key", "check", "plain", "plural",
           "verdict", "student_copy", "write_student_copy", "default_notebook", "add_cli"]

#: The day *The Washington Post* reported the partnerships (question 4).
REPORT_DATE = "2019-08-28"

#: Question number -> (what the answer is, hint printed while it is wrong, tolerance).
QUESTIONS = {
    1: ("partner agencies in the table",
        "count the rows of the table: len(partners) or partners.shape[0].", 0),
    2: ("the state with the most partners (two-letter code)",
        "count partners per state with partners['state'].value_counts() and take the "
        "largest with .idxmax().", 0),
    3: ("partners per 100,000 residents in your state",
        "divide the state's partners by its population, then multiply by 100,000.", 1e-9),
    4: (f"partnerships activated on or before {REPORT_DATE}",
        f"keep the rows whose activated date is <= '{REPORT_DATE}' and count them with .sum().",
        0),
    5: ("partnerships without an activation date",
        "partners['activated'].isna() is True where the date is missing; count with .sum().", 0),
    6: ("the upper bound of the share of your state's residents under a partnered agency",
        "look at the column share_covered_max of your state's row: states.loc[state].", 1e-9),
    7: ("the range of your state's residents under a partnered agency (lower, upper)",
        "two numbers in a pair, lower bound first: (states.loc[state, 'pop_covered_min'], "
        "states.loc[state, 'pop_covered_max']).", 0),
    8: ("counties of your state with at least one partner",
        "keep your state's rows of counties (counties['state'] == state), then count the rows "
        "whose partners is above 0.", 0),
}

_ANSWER = re.compile(r"^(answer_\d+)\s*=", re.MULTILINE)
_SOLUTIONS = re.compile(r"^solutions\s*(:[^=]*)?=.*$", re.MULTILINE)
_CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
#: Notebook cell tags: answer cells are blanked, teacher cells dropped in the student copy.
ANSWER_TAG, TEACHER_TAG = "answer", "teacher"


def plain(value) -> str:
    """Return a number as a reader writes it: ``1,501``, ``1.2863``, ``59.6%`` for shares.

    Whole numbers get thousands separators; other numbers four significant
    decimals; pairs are written ``(low, high)``. NumPy scalars print the same
    way as Python numbers (never ``np.float64(...)``).

    Examples
    --------
    >>> import numpy as np
    >>> plain(np.int64(1501)), plain(np.float64(1.28634)), plain(2.0), plain("IL")
    ('1,501', '1.2863', '2', 'IL')
    >>> plain((np.int64(7547792), 9382263.0))
    '(7,547,792, 9,382,263)'
    """
    if isinstance(value, tuple):
        return "(" + ", ".join(plain(v) for v in value) + ")"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value).strip()
    number = float(value)
    if math.isfinite(number) and number == round(number):
        return f"{int(round(number)):,}"
    return f"{number:,.4f}".rstrip("0").rstrip(".") if math.isfinite(number) else str(number)


def plural(count, singular: str, plural_form: str | None = None) -> str:
    """Return ``"1 county"``, ``"2 counties"``: a count and a noun that agree.

    Examples
    --------
    >>> plural(1, "county", "counties"), plural(26, "county", "counties"), plural(0, "partner")
    ('1 county', '26 counties', '0 partners')
    """
    noun = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{plain(count)} {noun}"


def answer_key(partners, *, state: str, as_of=None, states=None, counties=None) -> dict:
    """Return the expected answer of every question, computed by the library.

    Parameters
    ----------
    partners : pandas.DataFrame
        The partner table the lab loaded (``ringgeo.load_partners(as_of=as_of)``).
    state : str
        USPS code of the class's state.
    as_of : str, optional
        The lab's ``as_of`` parameter (question 4 counts at most up to it).
    states, counties : pandas.DataFrame, optional
        :func:`ringgeo.coverage.by_state` / ``by_county`` of ``partners`` when
        already computed.

    Returns
    -------
    dict
        Question number -> answer: int, float, str or a (lower, upper) pair.
    """
    import warnings

    # imported here: `ringgeo lab --student` and the command line's start need neither
    # the coverage tables nor geopandas (about 0.6 s)
    from . import coverage
    from .partners import load_partners

    states = coverage.by_state(partners) if states is None else states
    counties = coverage.by_county(partners) if counties is None else counties
    report_day = min(REPORT_DATE, as_of or REPORT_DATE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the undated partners, question 5
        reported = load_partners(partners.attrs.get("source", "atlas-2020-10-07"),
                                 as_of=report_day, link=False)
    row = states.loc[state]
    in_state = counties["state"] == state
    return {
        1: int(coverage.national(partners)["partners"].iloc[0]),
        2: str(states["partners"].idxmax()),
        3: float(row["partners_per_100k"]),
        4: len(reported),
        5: int(partners["activated"].isna().sum()),
        6: float(row["pop_covered_max"] / row["population"]),
        7: (int(row["pop_covered_min"]), int(row["pop_covered_max"])),
        # a municipal department counts where its town has residents (by_county's rule)
        8: int((counties.loc[in_state, "partners"] > 0).sum()),
    }


def _matches(answer, expected, tolerance: float) -> bool:
    if isinstance(expected, tuple):
        return (isinstance(answer, (tuple, list)) and len(answer) == len(expected)
                and all(_matches(a, e, tolerance) for a, e in zip(answer, expected)))
    if isinstance(expected, str):
        return str(answer).strip().upper() == expected
    if isinstance(answer, bool):
        return False
    try:
        return abs(float(answer) - float(expected)) <= tolerance
    except (TypeError, ValueError):
        return False


def verdict(number: int, answer, key: dict, *, solutions: bool = False) -> str:
    """Return the verdict on the answer to question ``number`` (what :func:`check` prints).

    ``correct`` when the answer matches :func:`answer_key`; ``not answered yet``
    while it is still None (the student copy's blank); otherwise ``not yet``
    and a hint. With ``solutions=True`` a wrong or missing answer is followed by
    the expected one.

    Raises
    ------
    ParameterError
        ``number`` is not a question of :data:`QUESTIONS`.

    Examples
    --------
    >>> key = {1: 1501, 7: (10, 20)}
    >>> verdict(1, None, key)
    'question 1: not answered yet: write your code in the cell above, run it, then run this cell.'
    >>> verdict(1, 1501, key)
    'question 1: correct: 1,501'
    >>> print(verdict(7, (20, 10), key, solutions=True))  # doctest: +ELLIPSIS
    question 7: not yet (you wrote (20, 10)): two numbers in a pair, lower bound first: ...
      answer key: (10, 20)
    """
    if number not in QUESTIONS:
        raise ParameterError(f"question {number!r} does not exist: the lab has questions "
                             f"{', '.join(map(str, QUESTIONS))}.")
    _, hint, tolerance = QUESTIONS[number]
    expected = key[number]
    if answer is None or answer is Ellipsis:
        text = ("not answered yet: write your code in the cell above, run it, then run "
                "this cell.")
    elif _matches(answer, expected, tolerance):
        return f"question {number}: correct: {plain(answer)}"
    else:
        text = f"not yet (you wrote {plain(answer)}): {hint}"
    text = f"question {number}: {text}"
    if solutions:
        text += f"\n  answer key: {plain(expected)}"
    return text


def check(number: int, answer, key: dict, *, solutions: bool = False) -> None:
    """Print the verdict on the answer to question ``number`` (see :func:`verdict`).

    Examples
    --------
    >>> check(1, 1501, {1: 1501})
    question 1: correct: 1,501
    """
    print(verdict(number, answer, key, solutions=solutions))


def default_notebook() -> Path:
    """Return the teacher copy of the lab in this checkout (``notebooks/05_classroom_lab.ipynb``).

    Raises
    ------
    InputError
        Not found (ringgeo installed without its notebooks): pass the path.
    """
    path = Path(__file__).resolve().parent.parent / "notebooks" / "05_classroom_lab.ipynb"
    if not path.is_file():
        raise InputError(f"the lab notebook is not at {path}: ringgeo was installed without "
                         "its notebooks; pass --notebook PATH (the teacher copy).")
    return path


def student_copy(nb):
    """Return the student version of the lab notebook ``nb`` (an nbformat notebook; a copy).

    The parameters cell gets ``solutions: bool = False``; every cell tagged
    ``answer`` becomes one ``answer_N = None  # your code here`` line per answer
    it assigns; cells tagged ``teacher`` are dropped; outputs, execution counts
    and the ``# NBVAL_CHECK_OUTPUT`` markers are removed.

    Raises
    ------
    InputError
        The notebook has no ``solutions`` parameter, or an answer cell assigns no
        ``answer_N``.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("solutions: bool = True  # teacher copy",
    ...                               metadata={"tags": ["parameters"]}),
    ...     nbformat.v4.new_code_cell("answer_1 = len(partners)",
    ...                               metadata={"tags": ["answer"]})])
    >>> [cell.source for cell in student_copy(nb).cells]
    ['solutions: bool = False  # True prints the answer key under each check', \
'answer_1 = None  # your code here']
    """
    import copy

    out = copy.deepcopy(nb)
    params = [c for c in out.cells if "parameters" in c.metadata.get("tags", [])]
    if not params or not _SOLUTIONS.search(params[0].source):
        raise InputError("the lab notebook has no `solutions` line in its parameters cell: "
                         "pass the teacher copy (notebooks/05_classroom_lab.ipynb).")
    params[0].source = _SOLUTIONS.sub(
        "solutions: bool = False  # True prints the answer key under each check",
        params[0].source, count=1)
    out.cells = [c for c in out.cells if TEACHER_TAG not in c.metadata.get("tags", [])]
    for cell in out.cells:
        if ANSWER_TAG in cell.metadata.get("tags", []):
            names = list(dict.fromkeys(_ANSWER.findall(cell.source)))
            if not names:
                raise InputError(f"answer cell {cell.get('id', '?')} assigns no answer_N: "
                                 f"{cell.source[:60]!r}")
            cell.source = "\n".join(f"{name} = None  # your code here" for name in names)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            lines = cell.source.split("\n")
            cell.source = "\n".join(line for line in lines if line.strip() != _CHECK_MARK)
    out.metadata.pop("papermill", None)
    return out


def write_student_copy(dest, *, notebook=None, overwrite: bool = False) -> Path:
    """Write the student copy of the lab to ``dest``; return its path.

    Parameters
    ----------
    dest : path
        The ``.ipynb`` file to write.
    notebook : path, optional
        The teacher copy; default :func:`default_notebook`.
    overwrite : bool
        Replace an existing ``dest`` (default: refuse, so that a student's work
        is never lost).

    Raises
    ------
    InputError
        ``dest`` exists (and not ``overwrite``), is a folder, is the teacher copy
        itself, or cannot be written (a folder on its path is a file, no permission);
        the teacher copy is missing, not a notebook, or not a lab notebook.
    """
    source = Path(notebook) if notebook is not None else default_notebook()
    dest = Path(dest)
    if not source.is_file():
        what = "is a folder" if source.is_dir() else "does not exist"
        raise InputError(f"the lab notebook {source} {what}: pass the teacher copy "
                         "(notebooks/05_classroom_lab.ipynb).")
    if dest.suffix != ".ipynb":
        raise InputError(f"{dest} is not a notebook file name: end it with .ipynb.")
    if dest.is_dir():
        raise InputError(f"{dest} is a folder, not a notebook file: give a file name "
                         f"(e.g. {dest / 'lab.ipynb'}); --force never replaces a folder.")
    if dest.exists() and dest.resolve() == source.resolve():
        raise InputError(f"{dest} is the teacher copy: write the student copy elsewhere.")
    if dest.exists() and not overwrite:
        raise InputError(f"{dest} already exists (a student's work?): choose another name "
                         "or pass --force to replace it.")
    try:
        nb = student_copy(_read_notebook(source))
    except InputError as err:
        if str(source) in str(err):
            raise
        raise InputError(f"{source}: {err}") from None
    _write_notebook(nb, dest)
    return dest


def _read_notebook(path: Path):
    """Return the notebook at ``path``; one that cannot be read is an InputError."""
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except OSError as err:
        raise InputError(f"cannot read the lab notebook {path}: {err.strerror or err}.") from None
    except Exception as err:  # nbformat: not JSON, not a notebook, an unknown version
        reason = " ".join(str(err).split())[:200]
        raise InputError(f"{path} is not a Jupyter notebook ({type(err).__name__}: {reason}): "
                         "pass the teacher copy (notebooks/05_classroom_lab.ipynb).") from None


def _write_notebook(nb, dest: Path) -> None:
    """Write ``nb`` to ``dest``, creating its folder; what stops it is an InputError."""
    import nbformat

    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)
    except OSError as err:
        blocker = next((p for p in [dest.parent, *dest.parent.parents]
                        if p.exists() and not p.is_dir()), None)
        reason = (f"{blocker} is a file, not a folder" if blocker is not None
                  else err.strerror or str(err))
        raise InputError(f"cannot write the student copy to {dest}: {reason}. Give a path in "
                         "a folder you can write to.") from None


def _cli(args) -> int:
    path = write_student_copy(args.student, notebook=args.notebook, overwrite=args.force)
    print(f"wrote the student copy of the lab to {path} (answer cells empty, solutions=False)")
    return 0


def add_cli(subparsers) -> None:
    """Register ``ringgeo lab --student OUT.ipynb [--notebook TEACHER.ipynb] [--force]``."""
    parser = subparsers.add_parser(
        "lab", help="write the student copy of the classroom lab",
        description="Write the student copy of notebooks/05_classroom_lab.ipynb: answer "
                    "cells empty, solutions=False, no outputs.")
    parser.add_argument("--student", metavar="OUT.ipynb", required=True,
                        help="where to write the student copy")
    parser.add_argument("--notebook", metavar="TEACHER.ipynb", default=None,
                        help="the teacher copy (default: the checkout's "
                             "notebooks/05_classroom_lab.ipynb)")
    parser.add_argument("--force", action="store_true",
                        help="replace OUT.ipynb if it exists")
    parser.set_defaults(func=_cli)

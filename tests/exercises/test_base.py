import numpy as np
import pytest

from iclcore.exercises import Case, check_function


def _ref(x, n):
    return np.asarray(x) / (n + 1)


CASES = [Case("scalar", (2.0, 1)), Case("vector", (np.arange(3.0), 4)), Case("n = 0 edge case", (1.0, 0))]
WRONG = [(lambda x, n: np.asarray(x) / n if n else np.asarray(x) * np.inf, "Did you forget the +1 in n + 1?")]


def test_reference_passes():
    v = check_function(_ref, _ref, CASES, name="shrink", wrong_answers=WRONG, show=False)
    assert v and "all 3 cases pass" in v.message


def test_planted_wrong_answer_is_rejected_with_its_hint():
    v = check_function(WRONG[0][0], _ref, CASES, name="shrink", wrong_answers=WRONG, show=False)
    assert not v and v.hint == "Did you forget the +1 in n + 1?" and "case 1" in v.message


def test_bad_submissions_get_plain_messages():
    assert "expected a function" in check_function(3, _ref, CASES, name="s", show=False).message

    def raises(x, n):
        raise KeyError("oops")

    def stub(x, n):
        raise NotImplementedError

    def wrong_shape(x, n):
        return np.zeros(7)

    def not_a_number(x, n):
        return "text"

    assert "raised KeyError" in check_function(raises, _ref, CASES, name="s", show=False).message
    assert "not implemented yet" in check_function(stub, _ref, CASES, name="s", show=False).message
    assert "expected shape ()" in check_function(wrong_shape, _ref, CASES, name="s", show=False).message
    assert "not a number" in check_function(not_a_number, _ref, CASES, name="s", show=False).message


def test_unknown_mistake_has_no_hint_but_says_expected_and_got(capsys):
    v = check_function(lambda x, n: np.asarray(x) * 0 + 5, _ref, CASES, name="s", wrong_answers=WRONG)
    assert not v and v.hint is None and "expected" in v.message and "got" in v.message
    assert "✗ s" in capsys.readouterr().out


def _all_checkers():
    import importlib
    import pkgutil

    import iclcore.exercises as package

    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"iclcore.exercises.{info.name}")
        found.update({f"{info.name}.{n}": getattr(module, n) for n in dir(module)
                      if n.startswith("check_") and n != "check_function" and callable(getattr(module, n))
                      and getattr(module, n).__module__ == module.__name__})
    return found


CHECKERS = _all_checkers()


def _stub(*args, **kwargs):
    raise NotImplementedError


def _raises(*args, **kwargs):
    return {}["missing"]


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_every_checker_answers_a_bad_submission_in_plain_words(name):
    """Not a function, a stub, a crash, a wrong shape, a non-number: a verdict that says so, never a traceback."""
    check = CHECKERS[name]
    for submission, says in [(42, ("expected a function",)), (_stub, ("not implemented",)),
                             (_raises, ("raised KeyError",)), (lambda *args: np.zeros(7), ("shape (7,)",)),
                             (lambda *args: "text", ("not a number", "returned shape ()"))]:
        verdict = check(submission, show=False)
        assert not verdict and any(s in verdict.message for s in says), verdict.message

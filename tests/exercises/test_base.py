import numpy as np

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

import numpy as np
import pytest

from iclcore import svm
from iclcore.tasks.token_selection import token_selection


def test_prompt_svm_known_case():
    """Two sequences in the plane: selected token e1 vs 0, and e2 vs 0 -> p^mm = (1, 1)."""
    X = np.array([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]]])
    p, lam = svm.solve_attention_svm(X, [0, 0], return_duals=True)
    np.testing.assert_allclose(p, [1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(lam[:, 1], [1.0, 1.0], atol=1e-5)  # w = A^T lambda
    assert np.all(lam[:, 0] == 0)


def test_query_svm_constraints_and_rank():
    D = token_selection(4, 5, 8, n_instances=1, seed=3)
    sel = D.optimal_tokens[0]
    for norm in ("fro", "nuc"):
        W = svm.solve_attention_svm(D.X[0], sel, D.z[0], norm=norm)
        A, _, _ = svm.constraint_matrix(D.X[0], sel, D.z[0])
        assert (A @ W.ravel()).min() >= 1 - 1e-6
        assert np.isclose((A @ W.ravel()).min(), 1, atol=1e-5)  # min-norm: some constraint is tight
    W_f = svm.solve_attention_svm(D.X[0], sel, D.z[0], norm="fro")
    W_n = svm.solve_attention_svm(D.X[0], sel, D.z[0], norm="nuc")
    # rank(W_F) <= min(n, d): W_F = sum_i (sum_t lambda_it (x_ia - x_it)) z_i^T
    assert svm.effective_rank(W_f) <= 4
    # each solution is optimal for its own norm
    assert np.linalg.norm(W_f) <= np.linalg.norm(W_n) + 1e-6
    assert np.linalg.norm(W_n, "nuc") <= np.linalg.norm(W_f, "nuc") + 1e-5


def test_frobenius_solution_is_span_of_duals():
    D = token_selection(3, 4, 5, seed=1)
    sel = D.optimal_tokens[0]
    W, lam = svm.solve_attention_svm(D.X[0], sel, D.z[0], return_duals=True)
    A, ri, rt = svm.constraint_matrix(D.X[0], sel, D.z[0])
    np.testing.assert_allclose(W.ravel(), A.T @ lam[ri, rt], atol=1e-6)


def test_infeasible_raises_and_batch_marks_nan():
    X = np.array([[[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0]]])  # selected token is the midpoint of the others
    with pytest.raises(svm.InfeasibleSVMError, match="infeasible"):
        svm.solve_attention_svm(X, [0])
    sols, ok = svm.solve_attention_svms(np.stack([X, X]), np.array([[0], [1]]))
    assert ok.tolist() == [False, True]
    assert np.isnan(sols[0]).all() and np.isfinite(sols[1]).all()


def test_margins_zero_rows():
    X = np.array([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]]])
    p = svm.solve_attention_svm(X, [0, 0], margins=[1.0, 0.0])
    np.testing.assert_allclose(p, [1.0, 0.0], atol=1e-4)  # interior point: boundary to ~1e-5


def test_local_and_global_optimality():
    gamma = np.array([[0.1, 0.5, 0.3], [0.9, 0.2, 0.0]])
    support = np.array([[False, False, True], [False, True, True]])
    np.testing.assert_array_equal(svm.globally_optimal_tokens(gamma), [1, 0])
    # sequence 0 selects token 0 (0.1) but its neighbour token 2 scores 0.3 -> not locally optimal
    np.testing.assert_array_equal(svm.locally_optimal(gamma, np.array([0, 0]), support), [False, True])
    np.testing.assert_array_equal(svm.locally_optimal(gamma, np.array([1, 0]), support), [True, True])


def test_active_constraints_marks_support():
    X = np.array([[[1.0, 0.0], [0.0, 0.0], [-1.0, 0.0]]])
    p = svm.solve_attention_svm(X, [0])
    np.testing.assert_array_equal(svm.active_constraints(X, [0], p), [[False, True, False]])


def test_value_svm_and_cosine_rank():
    F = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0]])
    v = svm.solve_value_svm(F, np.array([1.0, -1.0, 1.0]))
    np.testing.assert_allclose(v, [1.0, 0.5], atol=1e-6)
    assert svm.cosine(np.array([[1.0, 0.0]]), np.array([[2.0, 0.0]]))[0] == pytest.approx(1.0)
    assert svm.effective_rank(np.diag([1.0, 1e-9, 0.5])) == 2


@pytest.mark.parametrize("kwargs, message", [
    ({"norm": "l1"}, "norm must be"),
    ({"norm": "nuc"}, "needs a query"),
    ({"selected": [0, 5]}, "selected must hold token indices"),
    ({"selected": [0.0, 1.0]}, "integer array"),
    ({"query": np.zeros((3, 2))}, "query must have shape"),
    ({"margins": [-1.0, 1.0]}, "margins must be"),
])
def test_bad_input(kwargs, message):
    X = np.random.default_rng(0).normal(size=(2, 3, 2))
    args = {"selected": [0, 1]} | kwargs
    with pytest.raises(ValueError, match=message):
        svm.solve_attention_svm(X, **args)

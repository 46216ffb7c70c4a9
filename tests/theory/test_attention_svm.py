import numpy as np
import pytest

from iclcore import theory as svm
from iclcore.tasks import token_selection
from iclcore.theory import attention_svm


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


def test_cached_programs_agree_with_a_fresh_problem_and_with_each_other():
    """Problems of one shape are compiled once; re-solving with new data gives the same solutions."""
    D = token_selection(4, 5, 3, n_instances=3, seed=4)
    sel = D.optimal_tokens
    attention_svm._PROGRAMS.clear()
    first = [svm.solve_attention_svm(D.X[e], sel[e], D.z[e], norm="nuc") for e in range(3)]
    again = [svm.solve_attention_svm(D.X[e], sel[e], D.z[e], norm="nuc") for e in (2, 1, 0)][::-1]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)
        assert np.linalg.norm(a, "nuc") == pytest.approx(np.linalg.norm(b, "nuc"), rel=1e-5)


def test_other_solver_and_batched_solutions_match_single_ones():
    D = token_selection(3, 4, 6, n_instances=2, seed=6)
    sols, ok = svm.solve_attention_svms(D.X, D.optimal_tokens)
    assert ok.all()
    for e in range(2):
        np.testing.assert_allclose(sols[e], svm.solve_attention_svm(D.X[e], D.optimal_tokens[e]), atol=1e-9)
        np.testing.assert_allclose(svm.solve_attention_svm(D.X[e], D.optimal_tokens[e], solver="SCS"), sols[e],
                                   atol=1e-3)


def test_svm_equivalent_with_one_token_per_sequence_is_the_att_svm():
    D = token_selection(3, 4, 6, n_instances=1, seed=1)
    sel = D.optimal_tokens[0]
    W_mm = svm.solve_attention_svm(D.X[0], sel, D.z[0])
    probs = np.full((3, 4), 1e-12)
    probs[np.arange(3), sel.numpy()] = 1.0
    W_dir, W_eq, kept = svm.solve_svm_equivalent(D.X[0], probs, D.z[0], 7.0 * W_mm)
    np.testing.assert_allclose(W_dir, W_mm, atol=1e-5)
    np.testing.assert_allclose(W_eq, 7.0 * W_mm, atol=1e-4)          # W^fin = 0, R fitted to 7
    assert kept.sum() == 3


def test_svm_equivalent_reproduces_the_weights_inside_a_kept_set():
    """A trained W that keeps tokens {0, 1} of sequence 0 at ratio 1:3 and separates them from the rest."""
    D = token_selection(2, 4, 6, n_instances=1, seed=3)
    X, z = D.X[0].numpy(), D.z[0].numpy()
    probs = np.array([[0.25, 0.75, 1e-9, 1e-9], [1.0, 1e-9, 1e-9, 1e-9]])
    W_dir, W_eq, kept = svm.solve_svm_equivalent(X, probs, z, np.eye(6))
    assert kept.tolist() == [[True, True, False, False], [True, False, False, False]]
    a_dir = np.einsum("itd,dk,ik->it", X, W_dir, z)
    assert abs(a_dir[0, 1] - a_dir[0, 0]) < 1e-6                        # no change inside the set
    assert (a_dir[0, :2].min() - a_dir[0, 2:].max()) >= 1 - 1e-6 and (a_dir[1, 0] - a_dir[1, 1:].max()) >= 1 - 1e-6
    a_eq = np.einsum("itd,dk,ik->it", X, W_eq, z)                     # W_dir adds nothing inside the set,
    np.testing.assert_allclose(a_eq[0, 1] - a_eq[0, 0], np.log(3.0), atol=1e-6)   # so W_fin fixes the ratio

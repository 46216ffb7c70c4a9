"""Every closed form and every convex program of the book (numpy, scipy, cvxpy).

Risk convention (used everywhere in the book): the risk of a predictor is ``E[(y - y_hat)^2]`` for a fresh
query, **including the query-label noise** ``noise**2``. Subtract ``noise**2`` to get the excess risk.
``noise`` is always a standard deviation.
"""

__all__: list[str] = []

# --- Part I (chapters 1-2) ---
from iclcore.theory.lora import lora_residual_spectrum, lora_risk  # noqa: E402
from iclcore.theory.pgd import pgd_optimal, pgd_risk  # noqa: E402
from iclcore.theory.rag import iid_isotropic_risk, rag_kappa, rag_moments, rag_optimal, rag_risk  # noqa: E402
from iclcore.theory.task_alignment import tfa_effective_n, tfa_moments, tfa_optimal, tfa_risk  # noqa: E402
from iclcore.theory.wpgd import la_isotropic_hetero, wpgd_isotropic, wpgd_isotropic_risk  # noqa: E402

__all__ += ["iid_isotropic_risk", "la_isotropic_hetero", "lora_residual_spectrum", "lora_risk", "pgd_optimal",
            "pgd_risk", "rag_kappa", "rag_moments", "rag_optimal", "rag_risk", "tfa_effective_n", "tfa_moments",
            "tfa_optimal", "tfa_risk", "wpgd_isotropic", "wpgd_isotropic_risk"]
# transformers as algorithms (Part I)
from iclcore.theory.estimators import (  # noqa: E402
    GaussianPosteriorMean,
    LeastSquares,
    NearestNeighbours,
    OneStepGD,
    PoolPosteriorMean,
    Ridge,
    TransitionLeastSquares,
    ZeroNextState,
    gd_step_risk,
    least_squares_risk,
    optimal_gd_steps,
)

__all__ += ["GaussianPosteriorMean", "LeastSquares", "NearestNeighbours", "OneStepGD", "PoolPosteriorMean", "Ridge",
            "TransitionLeastSquares", "ZeroNextState", "gd_step_risk", "least_squares_risk", "optimal_gd_steps"]
# minimax nonparametric ICL (Part I)
from iclcore.theory.nonparametric import (  # noqa: E402
    BasisAttention,
    GPPosteriorMean,
    attention_moments,
    bayes_risk_bound,
    best_attention_risk,
    coefficient_noise,
    fourth_moments,
    gp_bayes_risk,
    minimax_exponent,
    optimal_attention,
    oracle_projection,
    projection_gamma,
    projection_risk,
    shrinkage_risk,
)

__all__ += ["BasisAttention", "GPPosteriorMean", "attention_moments", "bayes_risk_bound", "best_attention_risk",
            "coefficient_noise", "fourth_moments", "gp_bayes_risk", "minimax_exponent", "optimal_attention",
            "oracle_projection", "projection_gamma", "projection_risk", "shrinkage_risk"]
# mesa-optimization (Part I)
from iclcore.theory.mesa import (  # noqa: E402
    StartMoments,
    block_step_predict,
    empirical_moments,
    flow_endpoint,
    harmonic_weight,
    mesa_risk,
    mesa_step_predict,
    optimal_product,
    pooled_risk,
    recovery_floor,
    relative_error,
    scalar_descent,
    start_moments,
)

__all__ += ["StartMoments", "block_step_predict", "empirical_moments", "flow_endpoint", "harmonic_weight", "mesa_risk",
            "mesa_step_predict", "optimal_product", "pooled_risk", "recovery_floor", "relative_error",
            "scalar_descent", "start_moments"]
# --- Part II (chapters 3-4) ---
from iclcore.theory.attention_svm import (  # noqa: E402
    InfeasibleSVMError,
    active_constraints,
    constraint_matrix,
    cosine,
    effective_rank,
    globally_optimal_tokens,
    locally_optimal,
    solve_attention_svm,
    solve_attention_svms,
    solve_svm_equivalent,
    solve_value_svm,
)

__all__ += ["InfeasibleSVMError", "active_constraints", "constraint_matrix", "cosine", "effective_rank",
            "globally_optimal_tokens", "locally_optimal", "solve_attention_svm", "solve_attention_svms",
            "solve_svm_equivalent", "solve_value_svm"]
# --- Part III (chapters 5-6) ---
from iclcore.theory.cat import construction_mass, landmark_retrieval_theory  # noqa: E402
from iclcore.theory.dilution import dilution_mass, log_scaled_inv_temp, random_key_mass, sphere_log_mgf  # noqa: E402

__all__ += ["construction_mass", "dilution_mass", "landmark_retrieval_theory", "log_scaled_inv_temp", "random_key_mass",
            "sphere_log_mgf"]
# --- autoregressive learning ---
from iclcore.theory.autoregressive import (  # noqa: E402
    BlockStep,
    StepMoments,
    angle_cos_moments,
    block_step_optimum,
    chebyshev_weights,
    gd_step_monte_carlo,
    gd_step_predict,
    gd_step_theory,
    scalar_step_floor,
    unitary_min_loss,
    unitary_reduced_loss,
    unitary_zero_loss_weights,
)

__all__ += ["BlockStep", "StepMoments", "angle_cos_moments", "block_step_optimum", "chebyshev_weights",
            "gd_step_monte_carlo", "gd_step_predict", "gd_step_theory", "scalar_step_floor", "unitary_min_loss",
            "unitary_reduced_loss", "unitary_zero_loss_weights"]
# --- Markov chains (CCMC) ---
from iclcore.theory.ccmc import (  # noqa: E402
    base_chain,
    base_chain_entropy,
    ccmc_fisher,
    ccmc_kl,
    ccmc_mle,
    ccmc_nll,
    ccmc_probs,
    coverage_components,
    dirichlet_entropy,
    dirichlet_rank_shares,
    identified_dimension,
    mle_error_constant,
    polya_exponents,
    row_centred,
    row_centred_error,
    stationary_distribution,
)

__all__ += ["base_chain", "base_chain_entropy", "ccmc_fisher", "ccmc_kl", "ccmc_mle", "ccmc_nll", "ccmc_probs",
            "coverage_components", "dirichlet_entropy", "dirichlet_rank_shares", "identified_dimension",
            "mle_error_constant",
            "polya_exponents", "row_centred", "row_centred_error", "stationary_distribution"]
# --- knowledge distillation ---
from iclcore.theory.distillation import (  # noqa: E402
    amplification_threshold,
    mask_threshold,
    min_norm_interpolator,
    optimal_mask,
    optimal_surrogate,
    ridgeless_fixed_point,
    surrogate_to_target_risk,
)

__all__ += ["amplification_threshold", "mask_threshold", "min_norm_interpolator", "optimal_mask",
            "optimal_surrogate", "ridgeless_fixed_point", "surrogate_to_target_risk"]
# --- next-token mechanics ---
from iclcore.theory.token_priority import (  # noqa: E402
    NextTokenTheory,
    adjacency,
    constraint_table,
    finite_component,
    finite_subspace,
    graph_svm,
    label_scc_mask,
    next_token_theory,
    priority_graph,
    priority_graphs,
    soft_composition,
    strongly_connected_components,
    svm_constraints,
    top_scc_mask,
)

__all__ += ["NextTokenTheory", "adjacency", "constraint_table", "finite_component", "finite_subspace", "graph_svm",
            "label_scc_mask", "next_token_theory", "priority_graph", "priority_graphs", "soft_composition",
            "strongly_connected_components", "svm_constraints", "top_scc_mask"]
# --- Part V (learning across tasks, teachers and time) ---
from iclcore.theory.bandits import (  # noqa: E402
    direction_error_theory,
    etc_regret_theory,
    expected_max_normal,
    greedy_regret_rate,
    lasso_penalty,
    min_norm_recovery,
    rank1_factor,
    sparse_recovery,
    support_recovery,
)

__all__ += ["direction_error_theory", "etc_regret_theory", "expected_max_normal", "greedy_regret_rate",
            "lasso_penalty", "min_norm_recovery", "rank1_factor", "sparse_recovery", "support_recovery"]
# --- dissecting chain-of-thought (chapter file 16) ---
from iclcore.theory.cot import (  # noqa: E402
    identified_probability,
    least_squares_xy,
    linear_floor,
    stepwise_least_squares,
)

__all__ += ["identified_probability", "least_squares_xy", "linear_floor", "stepwise_least_squares"]

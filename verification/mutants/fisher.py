"""Plausible wrong formulas in ``theorytools.fisher`` (001_7d31b3ff3a2f0401.txt §9.2, 002_add1c097d251ec63.txt A.4-A.5)."""

from verification.mutation import Mutant as M

D = "theorytools/fisher/distributions.py"
T = "theorytools/fisher/tengrad.py"

MUTANTS = [
    M(D, "return np.diag([1.0 / s2, 2.0 / s2])", "return np.diag([1.0 / s2, 1.0 / s2])", "(mu, sigma): 1/sigma^2 for 2/sigma^2"),
    M(D, "return np.diag([1.0 / s2, 2.0])", "return np.diag([1.0 / s2, 1.0])", "(mu, ln sigma): 1 for 2"),
    M(D, "return np.diag([1.0 / s2, 0.5])", "return np.diag([1.0 / s2, 2.0])", "(mu, ln sigma^2): 2 for 1/2"),
    M(D, "return np.array([[s2, 2.0 * mu * s2], [2.0 * mu * s2, 2.0 * s2 * s2 + 4.0 * mu * mu * s2]])",
      "return np.array([[s2, 2.0 * mu * s2], [2.0 * mu * s2, 2.0 * s2 * s2 + 2.0 * mu * mu * s2]])",
      "natural: Var(y^2) with 2 mu^2 s2 for 4 mu^2 s2"),
    M(D, "return np.array([[s2, 2.0 * mu * s2], [2.0 * mu * s2, 2.0 * s2 * s2 + 4.0 * mu * mu * s2]])",
      "return np.array([[s2, mu * s2], [mu * s2, 2.0 * s2 * s2 + 4.0 * mu * mu * s2]])", "natural: Cov(y, y^2) without the 2"),
    M(D, "return np.exp(-gamma) * np.array([[1.0, r], [r, 0.5 * r * r]])",
      "return np.exp(-gamma) * np.array([[1.0, r], [r, r * r]])", "H_L: (y - mu)^2 without 1/2"),
    M(D, "return np.exp(-gamma) * np.array([[1.0, r], [r, 0.5 * r * r]])",
      "return np.exp(-gamma) * np.array([[1.0, -r], [-r, 0.5 * r * r]])", "H_L: off-diagonal sign"),
    M(D, "return np.diag(p) - np.outer(p, p)", "return np.diag(p) - np.diag(p * p)", "categorical: diagonal only"),
    M(T, "return (I.T[:, :, None] * G.T[:, None, :]).reshape(I.shape[1], -1)",
      "return (G.T[:, :, None] * I.T[:, None, :]).reshape(I.shape[1], -1)", "J rows kron(G_i, I_i) (column-major vec)"),
    M(T, "return (I.T @ I) * (G.T @ G)", "return (I.T @ I) @ (G.T @ G)", "eq. 41: matrix product for Hadamard"),
    M(T, "return np.sum((g.T @ I) * G, axis=0)", "return np.sum((g @ G) * I, axis=1)", "eq. 42 summed the printed way"),
    M(T, "return (I * v) @ G.T", "return I @ G.T * np.sum(v)", "eq. 43: v summed out"),
    M(T, "v = np.linalg.solve(beta * m * np.eye(m) + J @ J.T, J @ x)", "v = np.linalg.solve(beta * np.eye(m) + J @ J.T, J @ x)",
      "Woodbury: beta for beta m"),
    M(T, "v = np.linalg.solve(beta * m * np.eye(m) + tengrad_gram(I, G), jacobian_vector(I, G, U))",
      "v = np.linalg.solve(beta * m * np.eye(m) + tengrad_gram(I, G) / m, jacobian_vector(I, G, U))", "TENGraD: gram / m twice"),
    M(T, "out = (U - jacobian_transpose_vector(I, G, v)) / beta", "out = (U - jacobian_transpose_vector(I, G, v) / m) / beta",
      "TENGraD: extra 1/m on J^T v"),
    M(T, "A = J.T @ J / m + beta * np.eye(J.shape[1])", "A = J.T @ J + beta * np.eye(J.shape[1])", "explicit block without 1/m"),
]

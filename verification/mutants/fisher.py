"""Plausible wrong formulas in ``theorytools.fisher`` (001_7d31b3ff3a2f0401.txt §9.2, 002_add1c097d251ec63.txt A.4-A.5)."""

from verification.mutation import Mutant as M

D = "theorytools/fisher/distributions.py"
T = "theorytools/fisher/tengrad.py"
K = "theorytools/fisher/kl.py"
E = "theorytools/fisher/empirical.py"
V = "theorytools/fisher/invariance.py"
Q = "theorytools/fisher/quadratic_model.py"
N = "theorytools/fisher/ggn.py"

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
    M(K, "(s1 * s1 + (m1 - m2) ** 2) / (2.0 * s2 * s2)", "(s1 * s1 + (m1 - m2) ** 2) / (2.0 * s1 * s1)",
      "KL: divided by the first variance"),
    M(K, "return float(np.log(s2 / s1)", "return float(np.log(s1 / s2)", "KL: log ratio inverted"),
    M(K, "out.append(kl - 0.5 * e * e * d @ F @ d)", "out.append(kl - e * e * d @ F @ d)", "KL remainder without the 1/2"),
    M(E, "th[k + 1] = (1.0 - a[k] * abs(th[k]) ** (-2.0 * xi)) * th[k]", "th[k + 1] = (1.0 - a[k] * abs(th[k]) ** (2.0 * xi)) * th[k]",
      "§11.1 as printed in the middle: (theta^2)^xi without the inverse"),
    M(E, "return float(theta0) * np.concatenate([[1.0], np.cumprod(1.0 - a)])",
      "return float(theta0) * np.concatenate([[1.0], np.cumprod(1.0 - a / 2.0)])", "Fisher iteration with F = 2"),
    M(V, "r2, r3, r4 = d * d + v, d**3 + 3 * d * v, d**4 + 6 * d * d * v + 3 * v * v",
      "r2, r3, r4 = d * d + v, d**3 + 3 * d * v, d**4 + 6 * d * d * v + v * v", "empirical Fisher: E r^4 with v^2 for 3 v^2"),
    M(V, "return np.array([[e, 2.0 * r * e], [2.0 * r * e, 2.0 * (self.s_d**2 + r * r) * e]])",
      "return np.array([[e, r * e], [r * e, 2.0 * (self.s_d**2 + r * r) * e]])", "Hessian of h: off-diagonal without the 2"),
    M(V, "return np.array([[1.0, 2.0 * self.a * g2], [2.0 * self.c * g1, self.b]])",
      "return np.array([[1.0, 2.0 * self.c * g1], [2.0 * self.a * g2, self.b]])", "Jacobian of zeta transposed"),
    M(V, "return max(2.0 * abs(self.a), 2.0 * abs(self.c))", "return max(abs(self.a), abs(self.c))",
      "C of eq. 12 without the 2 of the component Hessians"),
    M(V, "return err, 0.5 * problem.C * np.sqrt(2.0) * float(d_gamma @ d_gamma)",
      "return err, 0.25 * problem.C * np.sqrt(2.0) * float(d_gamma @ d_gamma)", "eq. 12 with the printed extra 1/2"),
    M(Q, "r = J @ delta - t", "r = J @ delta + t", "§13 distance form with the printed sign"),
    M(Q, "return -0.5 * float(np.mean([g @ categorical_fisher_pinv", "return -float(np.mean([g @ categorical_fisher_pinv",
      "§13 bound without the 1/2"),
    M(D, "return np.linalg.inv(F + U) - U", "return np.linalg.inv(F + U)", "F_R^+ without removing the 1 1^T / K"),
    M(Q, "return -np.linalg.pinv(problem.fisher(theta), hermitian=True) @ problem.grad(theta)",
      "return -np.linalg.pinv(problem.fisher(theta) + 1e-3 * np.eye(problem.grad(theta).size), hermitian=True) @ problem.grad(theta)",
      "natural gradient damped instead of the minimum-norm pseudo-inverse"),
    M(Q, "return -np.einsum(\"skp,sk->p\", self.jacobians(), self.log_r_gradients(theta)) / len(self.y)",
      "return np.einsum(\"skp,sk->p\", self.jacobians(), self.log_r_gradients(theta)) / len(self.y)", "grad h with grad log r's sign"),
    M(N, "dW1 = (W2 * (1.0 - a * a))[:, :, None] * x[None, None, :]", "dW1 = W2[:, :, None] * x[None, None, :]",
      "network Jacobian without tanh'"),
    M(N, "return np.diag([np.exp(-z[1]), 0.5])", "return np.diag([np.exp(-z[1]), 2.0])", "F_R of (mu, log sigma^2): 2 for 1/2"),
    M(N, "        return output_fisher(kind, z)  # independent of y: natural parameters",
      "        return output_fisher(kind, z) + 0.0 * np.sum(y) + np.diag(np.full(z.size, 1e-3))",
      "H_L of the natural-parameter models with a spurious ridge"),
    M(T, "A = J.T @ J / m + beta * np.eye(J.shape[1])", "A = J.T @ J + beta * np.eye(J.shape[1])", "explicit block without 1/m"),
]

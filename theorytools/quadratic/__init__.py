"""Martens §14: exact theory of ``theta_{k+1} = theta_k - alpha_k B^{-1} g_k`` on a quadratic."""

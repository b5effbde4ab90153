"""The text's polynomial example: minimize f(x) = 2x⁴ + x³ − 3x² from x0 = 2 by gradient
descent, once with each stopping rule of the text:

- |f'(x)| < ε   (a stationary point: reason "tol_grad")
- |x_t − x_{t+1}| < ε   (the steps became tiny: reason "tol_x")

Run:  python examples/polynomial_descent.py
"""

import wonderland as wl


def f(x):
    return 2 * x**4 + x**3 - 3 * x**2


def main() -> None:
    print("f(x) = 2x^4 + x^3 - 3x^2, x0 = 2, gradient descent with lr = 0.01")
    exact = (-3 + 201 ** 0.5) / 16  # f'(x) = 8x^3 + 3x^2 - 6x = 0 at x > 0
    for rule, options in (("|f'(x)| < 1e-6", {"tol_grad": 1e-6}),
                          ("|x_t - x_t+1| < 1e-6", {"tol_grad": 0.0, "tol_x": 1e-6})):
        res = wl.optim.minimize(f, 2.0, method="gd", lr=0.01, max_iter=10_000, **options)
        print(f"stopping rule {rule:22s}: x = {res.x.item():.6f}, f(x) = {res.fun:.6f}, "
              f"|f'(x)| = {res.grad_norm:.2e}, {res.n_iter} iterations, reason {res.reason!r}")
    print(f"the exact local minimum: x* = (-3 + sqrt(201)) / 16 = {exact:.6f}")
    res = wl.optim.minimize(f, 2.0, method="momentum", lr=0.01, momentum=0.9, max_iter=10_000)
    print(f"with momentum 0.9: x = {res.x.item():.6f} after {res.n_iter} iterations "
          f"({res.reason})")


if __name__ == "__main__":
    main()

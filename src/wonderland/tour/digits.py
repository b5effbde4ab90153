"""A small convolutional network on scikit-learn's 8 × 8 digits, written with wonderland:
the pre-trained model of part 8 of the tour.

The network has two layers: 16 filters of 3 × 3 pixels slid over the image (a
convolution, written as a matrix product of image patches with the filters), a ReLU and
a 4 × 4 max-pool, giving a 64-number embedding; then a linear layer to the classes.
Everything is wonderland Tensors: the gradient comes from ``backward()`` and the updates
from ``wl.optim.Adam``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["ConvNet", "load_digits", "patches", "jitter", "train"]

SIDE = 8       # the digits are 8 × 8 images
WINDOW = 3     # 3 × 3 filters
POOL = 4       # 4 × 4 max-pooling: a 2 × 2 grid of pooled cells


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled handwritten digits: ``X`` (1797, 64) scaled to [0, 1], ``y``
    (1797,) in 0–9 (no download).

    Examples
    --------
    >>> X, y = load_digits()
    >>> X.shape, float(X.max()), sorted(set(y.tolist()))[:3]
    ((1797, 64), 1.0, [0, 1, 2])
    """
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    return bunch.data / 16.0, bunch.target.astype(np.int64)


_rows, _cols = np.meshgrid(np.arange(SIDE), np.arange(SIDE), indexing="ij")
_di, _dj = np.meshgrid(np.arange(WINDOW), np.arange(WINDOW), indexing="ij")
#: For each of the 64 output positions, the 9 positions of its window in the image padded
#: by one pixel (10 × 10).
_WINDOWS = ((_rows.ravel()[:, None] + _di.ravel()[None, :]) * (SIDE + 2)
            + (_cols.ravel()[:, None] + _dj.ravel()[None, :]))


def patches(X: np.ndarray) -> np.ndarray:
    """The 3 × 3 window around every pixel of each image (zero padding): ``(n, 64)`` ->
    ``(n, 64, 9)``, so that a convolution is ``patches(X) @ filters``.

    Examples
    --------
    >>> import numpy as np
    >>> P = patches(np.arange(64.0)[None])
    >>> P.shape, P[0, 9].tolist()  # the window around pixel (1, 1)
    ((1, 64, 9), [0.0, 1.0, 2.0, 8.0, 9.0, 10.0, 16.0, 17.0, 18.0])
    """
    X = np.asarray(X, dtype=np.float64).reshape(-1, SIDE, SIDE)
    padded = np.pad(X, ((0, 0), (1, 1), (1, 1))).reshape(len(X), -1)
    return padded[:, _WINDOWS]


def jitter(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image shifted by a random whole pixel, up to one in each direction (zeros
    enter at the border): digits a little off-centre.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((1, 64)); X[0, 27] = 1.0
    >>> out = jitter(X, np.random.default_rng(0))
    >>> out.shape, float(out.sum())
    ((1, 64), 1.0)
    """
    images = np.asarray(X, dtype=np.float64).reshape(-1, SIDE, SIDE)
    n = len(images)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    dr, dc = rng.integers(0, 3, n), rng.integers(0, 3, n)
    rows = dr[:, None] + np.arange(SIDE)[None, :]
    cols = dc[:, None] + np.arange(SIDE)[None, :]
    out = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.reshape(n, SIDE * SIDE)


@dataclass
class ConvNet:
    """Convolution (``channels`` 3 × 3 filters) → ReLU → 4 × 4 max-pool → linear layer.

    Parameters are leaf Tensors that require grad: ``filters`` (9, C), ``bias`` (C,),
    ``weight`` (4C, classes), ``offset`` (classes,). He initialization for the filters,
    ``1/sqrt(fan-in)`` for the linear layer.

    Examples
    --------
    >>> import numpy as np
    >>> net = ConvNet(channels=4, classes=3, seed=0)
    >>> net.embed(np.zeros((2, 64))).shape, net.logits(np.zeros((2, 64))).shape
    ((2, 16), (2, 3))
    """

    channels: int = 16
    classes: int = 5
    seed: int = 0
    params: list[Any] = field(init=False)

    def __post_init__(self) -> None:
        import wonderland as wl

        rng = np.random.default_rng(self.seed)
        dim = self.embedding_dim
        self.filters = wl.tensor(rng.normal(0, np.sqrt(2 / WINDOW ** 2),
                                            (WINDOW ** 2, self.channels)), requires_grad=True)
        self.bias = wl.zeros(self.channels, requires_grad=True)
        self.weight = wl.tensor(rng.normal(0, 1 / np.sqrt(dim), (dim, self.classes)),
                                requires_grad=True)
        self.offset = wl.zeros(self.classes, requires_grad=True)
        self.params = [self.filters, self.bias, self.weight, self.offset]

    @property
    def embedding_dim(self) -> int:
        """Length of the embedding: channels × pooled cells."""
        return self.channels * (SIDE // POOL) ** 2

    def new_head(self, classes: int) -> None:
        """Replace the linear layer by a zero one with ``classes`` outputs."""
        import wonderland as wl

        self.classes = classes
        self.weight = wl.zeros(self.embedding_dim, classes, requires_grad=True)
        self.offset = wl.zeros(classes, requires_grad=True)
        self.params = [self.filters, self.bias, self.weight, self.offset]

    def copy(self) -> ConvNet:
        """An independent copy (same weights)."""
        import wonderland as wl

        other = ConvNet(self.channels, self.classes, self.seed)
        for name in ("filters", "bias", "weight", "offset"):
            setattr(other, name, wl.tensor(getattr(self, name).numpy().copy(),
                                           requires_grad=True))
        other.params = [other.filters, other.bias, other.weight, other.offset]
        return other

    def features(self, P: Any) -> Any:
        """The embedding of images given as patches ``(n, 64, 9)``: a Tensor ``(n, 4C)``."""
        import wonderland as wl

        maps = wl.relu(wl.tensor(P) @ self.filters + self.bias)          # (n, 64, C)
        cells = SIDE // POOL
        pooled = maps.reshape(-1, cells, POOL, cells, POOL, self.channels).max(dim=(2, 4))
        return pooled.reshape(pooled.shape[0], -1)

    def embed(self, X: np.ndarray) -> np.ndarray:
        """The frozen embedding of images ``(n, 64)`` as a NumPy array (no graph)."""
        import wonderland as wl

        with wl.no_grad():
            return self.features(patches(X)).numpy()

    def logits(self, X: np.ndarray) -> Any:
        """Class scores of images ``(n, 64)``, a Tensor ``(n, classes)``."""
        return self.features(patches(X)) @ self.weight + self.offset

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The class of the highest score."""
        import wonderland as wl

        with wl.no_grad():
            return np.argmax(self.logits(X).numpy(), axis=1)


def train(net: ConvNet, X: np.ndarray, y: np.ndarray, *, epochs: int, lr: float = 1e-2,
          head_lr: float | None = None, batch_size: int | None = None, augment: bool = False,
          weight_decay: float = 0.0, seed: int = 0) -> list[float]:
    """Train every parameter of ``net`` by Adam on the cross-entropy; returns the mean loss
    of each epoch. ``head_lr`` gives the linear layer its own step (fine-tuning: a fresh
    head learns faster than the pre-trained filters should move); ``augment`` jitters the
    images anew each epoch; ``weight_decay`` adds ``weight_decay·‖weight‖²``.

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.random.default_rng(0).random((20, 64)), np.arange(20) % 2
    >>> net = ConvNet(channels=4, classes=2)
    >>> losses = train(net, X, y, epochs=30, lr=0.05)
    >>> losses[-1] < losses[0]
    True
    """
    import wonderland as wl
    import wonderland.losses as L

    rng = np.random.default_rng(seed)
    body = wl.optim.Adam([net.filters, net.bias], lr=lr)
    head = wl.optim.Adam([net.weight, net.offset], lr=head_lr or lr)
    n = len(X)
    batch = batch_size or n
    fixed = patches(X)
    history = []
    for _ in range(epochs):
        P = patches(jitter(X, rng)) if augment else fixed
        order = rng.permutation(n) if batch < n else np.arange(n)
        total = 0.0
        for start in range(0, n, batch):
            rows = order[start:start + batch]
            body.zero_grad()
            head.zero_grad()
            loss = L.cross_entropy(net.features(P[rows]) @ net.weight + net.offset, y[rows])
            if weight_decay:
                loss = loss + weight_decay * (net.weight ** 2).sum()
            loss.backward()
            body.step()
            head.step()
            total += loss.item() * len(rows)
        history.append(total / n)
    return history

"""Sampling grids, bilinear sampling and thin plate splines for the spatial
transformer layers of :mod:`indrnn.lasagne.layers.special`.

Coordinates are normalised to [-1, 1] in both directions, as in Jaderberg
et al. (2015): -1 is the centre of the first pixel, 1 that of the last.
"""
import numpy as np
import pytensor.tensor as pt

__all__ = [
    "output_size",
    "target_grid",
    "bilinear_sample",
    "tps_source_points",
    "tps_inverse_system",
    "tps_basis",
    "tps_basis_numpy",
]

BORDER_MODES = ("nearest", "mirror", "wrap")


def output_size(size, factor):
    """Output size along one axis for a downsample factor (a symbolic or
    known size); Lasagne's ``size // factor``."""
    return pt.cast(size // factor, "int64")


def _linspace(num, dtype):
    """``num`` evenly spaced values from -1 to 1 (-1 alone when
    ``num`` is 1, as ``np.linspace``)."""
    step = 2. / pt.maximum(num - 1, 1)
    return pt.cast(pt.arange(num) * step - 1, dtype)


def target_grid(height, width, dtype):
    """Normalised coordinates of every output pixel, row by row.

    Parameters
    ----------
    height, width : int or integer scalar
    dtype : str

    Returns
    -------
    TensorVariable
        ``(3, height * width)``: the rows are x, y and ones.
    """
    xs = _linspace(width, dtype)
    ys = _linspace(height, dtype)
    x = pt.tile(xs, (height,))
    y = pt.repeat(ys, width)
    return pt.stack([x, y, pt.ones_like(x)])


def _border_index(index, size, border_mode):
    """Map (possibly out-of-range) pixel indices into ``[0, size)``."""
    if border_mode == "nearest":
        return pt.clip(index, 0, size - 1)
    if border_mode == "mirror":
        # reflection about the first and last pixel: period 2 (size - 1)
        period = 2 * (size - 1)
        return pt.minimum(pt.mod(index, period), pt.mod(-index, period))
    if border_mode == "wrap":
        return pt.mod(index, size)
    raise ValueError("border_mode must be one of 'nearest', 'mirror', "
                     "'wrap'")


def bilinear_sample(images, x, y, border_mode):
    """Sample images at normalised coordinates with bilinear weights.

    Parameters
    ----------
    images : TensorVariable
        ``(batch, channels, height, width)``.
    x, y : TensorVariable
        ``(batch, points)`` normalised source coordinates.
    border_mode : {'nearest', 'mirror', 'wrap'}
        How pixels outside the image are read.

    Returns
    -------
    TensorVariable
        ``(batch, points, channels)``.
    """
    if border_mode not in BORDER_MODES:
        raise ValueError("border_mode must be one of 'nearest', 'mirror', "
                         "'wrap'")
    num_batch, channels, height, width = (images.shape[i] for i in range(4))
    dtype = images.dtype
    height_f = pt.cast(height, dtype)
    width_f = pt.cast(width, dtype)
    x = (x + 1) / 2 * (width_f - 1)
    y = (y + 1) / 2 * (height_f - 1)
    x0, y0 = pt.floor(x), pt.floor(y)
    x1, y1 = x0 + 1, y0 + 1
    # the weights come from the unmapped corners; only the lookups move
    weights = ((x1 - x) * (y1 - y), (x1 - x) * (y - y0),
               (x - x0) * (y1 - y), (x - x0) * (y - y0))

    def idx(v, size):
        return pt.cast(_border_index(v, size, border_mode), "int64")
    xi0, xi1 = idx(x0, width_f), idx(x1, width_f)
    yi0, yi1 = idx(y0, height_f), idx(y1, height_f)
    flat = images.dimshuffle(0, 2, 3, 1).reshape((-1, channels))
    base = (pt.arange(num_batch, dtype="int64") * height * width
            ).dimshuffle(0, "x")
    corners = ((yi0, xi0), (yi1, xi0), (yi0, xi1), (yi1, xi1))
    out = 0
    for (yi, xi), w in zip(corners, weights):
        out = out + flat[base + yi * width + xi] * w.dimshuffle(0, 1, "x")
    return out


def tps_source_points(num_points):
    """The fixed control points: an evenly spaced square grid over
    [-1, 1]^2, x varying fastest.

    Parameters
    ----------
    num_points : int
        A perfect square.

    Returns
    -------
    numpy.ndarray
        ``(2, num_points)``.
    """
    side = int(round(np.sqrt(num_points)))
    x, y = np.meshgrid(np.linspace(-1, 1, side), np.linspace(-1, 1, side))
    return np.vstack([x.ravel(), y.ravel()])


def _radial(r2):
    """The thin plate spline kernel ``U = r^2 log r^2`` of squared
    distances, 0 at 0."""
    safe = np.where(r2 > 0, r2, 1.)
    return np.where(r2 > 0, r2 * np.log(safe), 0.)


def tps_inverse_system(source_points):
    """Inverse of the thin plate spline system of Bookstein (1989).

    The unknowns are ordered ``(a_1, a_x, a_y, w_1 .. w_K)``; the rows of
    the system are the three side conditions and the K interpolation
    conditions. Its last K columns map destination coordinates to the
    coefficients.

    Parameters
    ----------
    source_points : numpy.ndarray
        ``(2, K)``.

    Returns
    -------
    numpy.ndarray
        ``(K + 3, K + 3)``.
    """
    k = source_points.shape[1]
    system = np.zeros((k + 3, k + 3))
    system[0, 3:] = 1
    system[1:3, 3:] = source_points
    system[3:, 0] = 1
    system[3:, 1:3] = source_points.T
    diff = source_points[:, :, None] - source_points[:, None, :]
    system[3:, 3:] = _radial((diff ** 2).sum(axis=0))
    return np.linalg.inv(system)


def tps_basis_numpy(grid_xy, source_points):
    """The basis ``(1, x, y, U(|p - s_k|^2) ...)`` at known points.

    Parameters
    ----------
    grid_xy : numpy.ndarray
        ``(2, P)`` points.
    source_points : numpy.ndarray
        ``(2, K)``.

    Returns
    -------
    numpy.ndarray
        ``(K + 3, P)``.
    """
    diff = grid_xy[:, None, :] - source_points[:, :, None]
    return np.concatenate([np.ones((1, grid_xy.shape[1])), grid_xy,
                           _radial((diff ** 2).sum(axis=0))])


def tps_basis(grid_xy, source_points):
    """Symbolic :func:`tps_basis_numpy`, for grids of unknown size.

    Parameters
    ----------
    grid_xy : TensorVariable
        ``(2, P)``.
    source_points : numpy.ndarray
        ``(2, K)``.

    Returns
    -------
    TensorVariable
        ``(K + 3, P)``.
    """
    src = pt.constant(source_points.astype(grid_xy.dtype))
    r2 = pt.sqr(grid_xy.dimshuffle(0, "x", 1)
                - src.dimshuffle(0, 1, "x")).sum(axis=0)
    safe = pt.switch(r2 > 0, r2, 1)
    radial = pt.switch(r2 > 0, r2 * pt.log(safe), 0)
    ones = pt.ones_like(grid_xy[:1])
    return pt.concatenate([ones, grid_xy, radial], axis=0)

"""Tests for the spatial transformers of indrnn.lasagne.layers.special
(TransformerLayer, TPSTransformerLayer) against hand-computed shifts and a
per-pixel numpy sampler, with the thin plate spline solved by
np.linalg.solve. One function (FAST_COMPILE) holds all variants (the
default mode's cold compilation of the sampler takes about 30 s)."""
import numpy as np
import pytensor
import pytest

from indrnn.lasagne.layers import (DenseLayer, InputLayer,
                                   TPSTransformerLayer, TransformerLayer,
                                   get_output)

MODE = "FAST_COMPILE"
B, C, H, W = 2, 2, 5, 6
RNG = np.random.RandomState(0)
IMAGES = RNG.randn(B, C, H, W)


def border(i, size, mode):
    if mode == "nearest":
        return min(max(i, 0), size - 1)
    if mode == "wrap":
        return i % size
    period = 2 * (size - 1)        # mirror about the first/last pixel
    i = i % period
    return period - i if i >= size else i


def np_sample(images, xs, ys, out_h, out_w, mode):
    """Bilinear sampling at normalised coordinates, pixel by pixel."""
    out = np.zeros((images.shape[0], images.shape[1], out_h, out_w))
    h, w = images.shape[2:]
    for n in range(images.shape[0]):
        for p in range(out_h * out_w):
            x = (xs[n, p] + 1) / 2 * (w - 1)
            y = (ys[n, p] + 1) / 2 * (h - 1)
            x0, y0 = int(np.floor(x)), int(np.floor(y))
            value = 0
            for dx in (0, 1):
                for dy in (0, 1):
                    weight = ((1 - abs(x - (x0 + dx)))
                              * (1 - abs(y - (y0 + dy))))
                    value = value + weight * images[
                        n, :, border(y0 + dy, h, mode),
                        border(x0 + dx, w, mode)]
            out[n, :, p // out_w, p % out_w] = value
    return out


def np_grid(out_h, out_w):
    x, y = np.meshgrid(np.linspace(-1, 1, out_w), np.linspace(-1, 1, out_h))
    return x.ravel(), y.ravel()


def np_affine(images, theta, factor, mode):
    out_h, out_w = int(H // factor), int(W // factor)
    gx, gy = np_grid(out_h, out_w)
    t = theta.reshape(-1, 2, 3)
    xs = t[:, 0, :1] * gx + t[:, 0, 1:2] * gy + t[:, 0, 2:]
    ys = t[:, 1, :1] * gx + t[:, 1, 1:2] * gy + t[:, 1, 2:]
    return np_sample(images, xs, ys, out_h, out_w, mode)


def np_tps(images, offsets, k, mode):
    """Interpolate the control-point displacements with a thin plate spline
    (solved directly) and sample."""
    side = int(np.sqrt(k))
    sx, sy = np.meshgrid(np.linspace(-1, 1, side), np.linspace(-1, 1, side))
    src = np.stack([sx.ravel(), sy.ravel()], axis=1)            # (k, 2)

    def kernel(a, b):
        r2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(r2 > 0, r2 * np.log(r2), 0.)
    affine = np.hstack([np.ones((k, 1)), src])
    system = np.block([[kernel(src, src), affine],
                       [affine.T, np.zeros((3, 3))]])
    gx, gy = np_grid(H, W)
    grid = np.stack([gx, gy], axis=1)
    xs, ys = [], []
    for off in offsets:
        dest = src + off.reshape(2, k).T
        rhs = np.vstack([dest, np.zeros((3, 2))])
        coef = np.linalg.solve(system, rhs)                     # (k + 3, 2)
        mapped = (kernel(grid, src).dot(coef[:k])
                  + np.hstack([np.ones((len(grid), 1)), grid]).dot(coef[k:]))
        xs.append(mapped[:, 0])
        ys.append(mapped[:, 1])
    return np_sample(images, np.array(xs), np.array(ys), H, W, mode)


THETA = np.array([[0.9, 0.2, 0.15, -0.1, 1.1, -0.3],
                  [1.3, -0.4, -0.2, 0.3, 0.8, 0.4]])
SHIFT = np.array([[1, 0, 2. / (W - 1), 0, 1, 0]] * B)   # one pixel right
OFFSETS = RNG.uniform(-0.3, 0.3, (B, 2 * 9))


@pytest.fixture(scope="module")
def transformed():
    with pytensor.config.change_flags(floatX="float64"):
        l_img = InputLayer((None, C, H, W))
        l_img_free = InputLayer((None, C, None, None))
        l_theta = InputLayer((None, 6))
        l_off = InputLayer((None, 18))
        layers = {
            "shift": TransformerLayer(l_img, l_theta),
            "down": TransformerLayer(l_img, l_theta, downsample_factor=2),
            "tps_zero": TPSTransformerLayer(l_img, l_off, control_points=9),
            "tps_free": TPSTransformerLayer(l_img_free, l_off,
                                            control_points=9),
        }
        for mode in ("nearest", "mirror", "wrap"):
            layers["affine_" + mode] = TransformerLayer(
                l_img, l_theta, border_mode=mode)
            layers["tps_" + mode] = TPSTransformerLayer(
                l_img, l_off, control_points=9, border_mode=mode)
        keys = sorted(layers)
        outs = get_output([layers[k] for k in keys],
                          {l_img: l_img.input_var,
                           l_img_free: l_img.input_var})
        f = pytensor.function([l_img.input_var, l_theta.input_var,
                               l_off.input_var], outs, mode=MODE)
        shift = dict(zip(keys, f(IMAGES, SHIFT, np.zeros((B, 18)))))
        general = dict(zip(keys, f(IMAGES, THETA, OFFSETS)))
    return dict(layers=layers, shift=shift, general=general)


def test_shapes_and_options(transformed):
    layers = transformed["layers"]
    assert layers["shift"].output_shape == (None, C, H, W)
    assert layers["down"].output_shape == (None, C, H // 2, W // 2)
    assert layers["tps_zero"].precompute_grid is True
    assert layers["tps_free"].precompute_grid is False
    assert layers["tps_free"].output_shape == (None, C, None, None)


def test_one_pixel_shift_by_hand(transformed):
    # theta moves every sample point one pixel to the right: column j reads
    # column j + 1; the last column reads past the border (nearest: itself)
    out = transformed["shift"]["shift"]
    np.testing.assert_allclose(out[..., :-1], IMAGES[..., 1:], atol=1e-12)
    np.testing.assert_allclose(out[..., -1], IMAGES[..., -1], atol=1e-12)
    # wrap reads the first column there, mirror the one before the last
    np.testing.assert_allclose(transformed["shift"]["affine_wrap"][..., -1],
                               IMAGES[..., 0], atol=1e-12)
    np.testing.assert_allclose(
        transformed["shift"]["affine_mirror"][..., -1], IMAGES[..., -2],
        atol=1e-12)


def test_zero_offsets_give_the_identity(transformed):
    for key in ("tps_zero", "tps_free"):
        np.testing.assert_allclose(transformed["shift"][key], IMAGES,
                                   atol=1e-10)


@pytest.mark.parametrize("mode", ["nearest", "mirror", "wrap"])
def test_affine_against_numpy(transformed, mode):
    np.testing.assert_allclose(transformed["general"]["affine_" + mode],
                               np_affine(IMAGES, THETA, 1, mode),
                               rtol=1e-10, atol=1e-12)


def test_downsampled_affine_against_numpy(transformed):
    np.testing.assert_allclose(transformed["general"]["down"],
                               np_affine(IMAGES, THETA, 2, "nearest"),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["nearest", "mirror", "wrap"])
def test_thin_plate_spline_against_numpy(transformed, mode):
    np.testing.assert_allclose(transformed["general"]["tps_" + mode],
                               np_tps(IMAGES, OFFSETS, 9, mode),
                               rtol=1e-8, atol=1e-10)


def test_precomputed_and_symbolic_grids_agree(transformed):
    np.testing.assert_allclose(transformed["general"]["tps_free"],
                               transformed["general"]["tps_nearest"],
                               rtol=1e-10, atol=1e-12)


def test_bad_arguments():
    l_img = InputLayer((None, C, H, W))
    with pytest.raises(ValueError, match=r"\(batch_size, 6\)"):
        TransformerLayer(l_img, InputLayer((None, 5)))
    with pytest.raises(ValueError, match="4-dimensional"):
        TransformerLayer(InputLayer((None, C, H)), InputLayer((None, 6)))
    with pytest.raises(ValueError, match="perfect square"):
        TPSTransformerLayer(l_img, InputLayer((None, 16)), control_points=8)
    with pytest.raises(ValueError, match="2\\*control_points"):
        TPSTransformerLayer(l_img, InputLayer((None, 10)), control_points=9)
    with pytest.raises(ValueError, match="pre-specified"):
        TPSTransformerLayer(InputLayer((None, C, None, W)),
                            InputLayer((None, 32)), precompute_grid=True)
    with pytest.raises(ValueError, match="border_mode"):
        get_output(TransformerLayer(l_img, InputLayer((None, 6)),
                                    border_mode="reflect"))


def test_documented_identity_example_in_float32():
    """Lasagne's example: a zero-weight localization network whose bias is
    the identity transform."""
    b = np.zeros((2, 3), dtype="float32")
    b[0, 0] = b[1, 1] = 1
    l_in = InputLayer((None, C, H, W))
    l_loc = DenseLayer(l_in, num_units=6, W=np.zeros((C * H * W, 6),
                                                     dtype="float32"),
                       b=b.flatten(), nonlinearity=None)
    l_trans = TransformerLayer(l_in, l_loc)
    f = pytensor.function([l_in.input_var], get_output(l_trans), mode=MODE)
    images = IMAGES.astype("float32")
    np.testing.assert_allclose(f(images), images, atol=1e-5)

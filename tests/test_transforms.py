"""nabla.transforms: exact results on small arrays, torchvision's documented semantics,
determinism under a seed, and MixUp / CutMix targets that match what was mixed."""

import math

import numpy
import pytest

import nabla
import nabla.nn.functional as F
from nabla import transforms as T


def img(c=2, h=4, w=5, dtype=numpy.float32):
    return numpy.arange(c * h * w, dtype=dtype).reshape(c, h, w)


def test_to_tensor_scales_uint8_hwc_to_float_chw():
    a = numpy.arange(24, dtype=numpy.uint8).reshape(2, 4, 3)  # H, W, C
    t = T.ToTensor()(a)
    assert isinstance(t, nabla.Tensor) and t.dtype == nabla.float32 and tuple(t.shape) == (3, 2, 4)
    numpy.testing.assert_allclose(t.numpy(), a.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    grey = T.ToTensor()(numpy.ones((3, 3), numpy.float64))  # floats keep values and dtype
    assert tuple(grey.shape) == (1, 3, 3) and grey.dtype == nabla.float64
    assert (grey.numpy() == 1).all()


def test_normalize_matches_hand_computation_on_arrays_and_tensors():
    a = numpy.random.default_rng(0).random((2, 3, 4, 4)).astype(numpy.float32)
    mean, std = (0.5, 0.25, 0.1), (0.2, 0.3, 0.5)
    expected = numpy.stack([(a[:, c] - mean[c]) / std[c] for c in range(3)], axis=1)
    numpy.testing.assert_allclose(T.Normalize(mean, std)(a), expected, rtol=1e-6)
    out = T.Normalize(mean, std)(nabla.tensor(a))
    assert isinstance(out, nabla.Tensor)
    numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="zero"):
        T.Normalize((0.0,), (0.0,))(a[0])


def test_random_crop_with_padding_cuts_the_padded_image_exactly():
    a = img(1, 3, 3)
    crop = T.RandomCrop(3, padding=1, generator=nabla.Generator(0))
    padded = numpy.pad(a, ((0, 0), (1, 1), (1, 1)))
    windows = {(i, j): padded[:, i:i + 3, j:j + 3] for i in range(3) for j in range(3)}
    seen = set()
    for _ in range(200):
        out = crop(a)
        hits = [k for k, v in windows.items() if numpy.array_equal(v, out)]
        assert len(hits) == 1
        seen.add(hits[0])
    assert len(seen) == 9  # every offset of the padded image is reachable
    # no padding and the full size: the identity
    numpy.testing.assert_array_equal(T.RandomCrop((4, 5))(img()), img())
    # torchvision's padding modes and (left, top, right, bottom) order
    p = T.pad(img(1, 2, 2), (1, 0, 0, 2), padding_mode="edge")
    numpy.testing.assert_array_equal(p[0], [[0, 0, 1], [2, 2, 3], [2, 2, 3], [2, 2, 3]])
    with pytest.raises(ValueError, match="larger"):
        T.RandomCrop(6)(img())
    assert T.RandomCrop(6, pad_if_needed=True)(img()).shape == (2, 6, 6)


def test_flips_reverse_the_right_axis_with_the_right_probability():
    a = img()
    numpy.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(a), a[..., ::-1])
    numpy.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(a), a[..., ::-1, :])
    assert T.RandomHorizontalFlip(p=0.0)(a) is a
    flip = T.RandomHorizontalFlip(generator=nabla.Generator(1))
    flipped = sum(not numpy.array_equal(flip(a), a) for _ in range(400))
    assert 150 < flipped < 250
    t = T.RandomHorizontalFlip(p=1.0)(nabla.tensor(a))
    assert isinstance(t, nabla.Tensor) and (t.numpy() == a[..., ::-1]).all()


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_rotation_by_90_degrees_is_rot90_counter_clockwise(interpolation):
    a = numpy.random.default_rng(0).random((2, 5, 5)).astype(numpy.float32)
    rot = T.RandomRotation((90, 90), interpolation=interpolation)
    numpy.testing.assert_allclose(rot(a), numpy.rot90(a, 1, axes=(-2, -1)), atol=1e-6)
    rot = T.RandomRotation((-90, -90), interpolation=interpolation)
    numpy.testing.assert_allclose(rot(a), numpy.rot90(a, -1, axes=(-2, -1)), atol=1e-6)
    numpy.testing.assert_allclose(T.RandomRotation(0, interpolation=interpolation)(a), a,
                                  atol=1e-6)


def test_small_bilinear_rotation_interpolates_and_fills():
    a = numpy.zeros((1, 3, 3), numpy.float32)
    a[0, 1, 2] = 1.0  # one pixel right of the centre
    out = T.rotate(a, 45.0, "bilinear")
    # the lit pixel turns towards the top-right corner. Output pixels look up the inverse
    # rotation: (0, 2) reads the point sqrt(2) right of the centre, 0.414 past the lit pixel
    # (weight 2 - sqrt(2)); (0, 1) and (1, 2) read points offset by (0.29, 0.71) from it
    s = math.sqrt(0.5)
    assert out[0, 0, 2] == pytest.approx(2 - math.sqrt(2), abs=1e-6)
    assert out[0, 0, 1] == pytest.approx((1 - s) * s, abs=1e-6)
    assert out[0, 1, 2] == pytest.approx((1 - s) * s, abs=1e-6)
    assert out[0, 1, 1] == 0 and out[0, 2].sum() == 0 and out[0, :, 0].sum() == 0
    corner = T.rotate(numpy.ones((1, 4, 4), numpy.float32), 45.0, "nearest",
                                 fill=-1.0)
    assert corner[0, 0, 0] == -1.0 and corner[0, 1, 1] == 1.0


def test_gaussian_noise_statistics_and_clip():
    a = numpy.full((1, 100, 100), 0.5, numpy.float32)
    out = T.GaussianNoise(sigma=0.1, generator=nabla.Generator(0))(a)
    assert out.dtype == numpy.float32
    assert abs((out - 0.5).mean()) < 0.005 and abs((out - 0.5).std() - 0.1) < 0.005
    clipped = T.GaussianNoise(sigma=2.0)(a)
    assert clipped.min() >= 0 and clipped.max() <= 1
    assert T.GaussianNoise(sigma=2.0, clip=False)(a).max() > 1


def test_random_erasing_and_cutout_change_exactly_one_rectangle():
    a = numpy.ones((3, 16, 16), numpy.float32)
    er = T.RandomErasing(p=1.0, scale=(0.1, 0.1), ratio=(1.0, 1.0), value=(0, 2, 3),
                         generator=nabla.Generator(0))
    out = er(a)
    rows, cols = numpy.nonzero(out[0] != 1)
    h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert h == w == round(math.sqrt(0.1 * 256)) and len(rows) == h * w  # 5x5 solid square
    box = (slice(None), slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    assert (out[box][0] == 0).all() and (out[box][1] == 2).all() and (out[box][2] == 3).all()
    assert (a == 1).all()  # not in place by default
    assert T.RandomErasing(p=0.0)(a) is a
    cut = T.Cutout(1, 4, generator=nabla.Generator(3))(a)
    zeros = (cut[0] == 0).sum()
    assert 4 <= zeros <= 16 and ((cut == 0).sum(0) % 3 == 0).all()  # same square on all channels


def test_transforms_are_deterministic_under_a_seed_and_compose():
    pipeline = T.Compose([T.RandomCrop(8, padding=2), T.RandomHorizontalFlip(),
                          T.RandomRotation(10, interpolation="bilinear"),
                          T.RandomErasing(p=0.5), T.GaussianNoise(0.0, 0.05)])
    a = numpy.random.default_rng(0).random((1, 8, 8)).astype(numpy.float32)
    nabla.manual_seed(7)
    first = [pipeline(a) for _ in range(5)]
    nabla.manual_seed(7)
    again = [pipeline(a) for _ in range(5)]
    assert all(numpy.array_equal(x, y) for x, y in zip(first, again))
    assert not numpy.array_equal(first[0], first[1])
    g1, g2 = nabla.Generator(3), nabla.Generator(3)
    assert numpy.array_equal(T.RandomRotation(30, generator=g1)(a),
                             T.RandomRotation(30, generator=g2)(a))
    assert "RandomCrop" in repr(pipeline)


def test_mixup_targets_use_the_same_lambda_as_the_images():
    x = numpy.random.default_rng(0).random((4, 1, 3, 3)).astype(numpy.float32)
    y = numpy.array([0, 1, 2, 1])
    mix = T.MixUp(alpha=0.4, num_classes=3, generator=nabla.Generator(0))
    xm, ym = mix(x, y)
    lam = mix.lam
    assert 0 <= lam <= 1
    numpy.testing.assert_allclose(xm, lam * x + (1 - lam) * x[[3, 0, 1, 2]], rtol=1e-6)
    onehot = numpy.eye(3)[y]
    numpy.testing.assert_allclose(ym, lam * onehot + (1 - lam) * onehot[[3, 0, 1, 2]], rtol=1e-6)
    numpy.testing.assert_allclose(ym.sum(1), 1.0, rtol=1e-6)
    xt, yt = mix(nabla.tensor(x), nabla.tensor(y))
    assert isinstance(xt, nabla.Tensor) and tuple(yt.shape) == (4, 3)
    with pytest.raises(ValueError, match="num_classes"):
        T.MixUp()(x, y)


def test_cutmix_label_weight_is_the_uncovered_area():
    x = numpy.zeros((2, 1, 10, 10), numpy.float32)
    x[1] = 1.0
    cut = T.CutMix(alpha=1.0, num_classes=2, generator=nabla.Generator(5))
    for _ in range(20):
        xm, ym = cut(x, numpy.array([0, 1]))
        x1, y1, x2, y2 = cut.box
        pasted = (x2 - x1) * (y2 - y1)
        assert (xm[0] == 1).sum() == pasted and (xm[1] == 0).sum() == pasted
        assert cut.lam == pytest.approx(1 - pasted / 100)
        numpy.testing.assert_allclose(ym[0], [cut.lam, 1 - cut.lam], rtol=1e-6)
        # image 0 keeps lam of itself (class 0) and got 1 - lam of image 1 (class 1)
        assert xm[0].mean() == pytest.approx(1 - cut.lam)


def test_soft_targets_feed_cross_entropy_with_probabilities():
    logits = nabla.randn(4, 3)
    x = numpy.zeros((4, 1, 2, 2), numpy.float32)
    _, soft = T.MixUp(num_classes=3, generator=nabla.Generator(0))(nabla.tensor(x),
                                                                  nabla.tensor([0, 1, 2, 0]))
    loss = F.cross_entropy(logits, soft)
    by_hand = -(soft.numpy() * F.log_softmax(logits, 1).numpy()).sum(1).mean()
    assert loss.item() == pytest.approx(by_hand, rel=1e-5)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_rotation_matches_torch_grid_sample_as_torchvision_rotates(interpolation):
    # torchvision rotates a tensor with an affine grid about the image centre and grid_sample
    # (align_corners=False, zeros outside); on a square image the grid's matrix is the rotation
    torch = pytest.importorskip("torch")
    a = numpy.random.default_rng(1).random((1, 2, 7, 7)).astype(numpy.float32)
    angle = 23.0  # 30 degrees would put points on .5 ties, where nearest is a coin toss
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    theta = torch.tensor([[[c, -s, 0.0], [s, c, 0.0]]], dtype=torch.float32)
    grid = torch.nn.functional.affine_grid(theta, (1, 2, 7, 7), align_corners=False)
    expected = torch.nn.functional.grid_sample(torch.from_numpy(a), grid, mode=interpolation,
                                               padding_mode="zeros", align_corners=False)
    numpy.testing.assert_allclose(T.rotate(a, angle, interpolation), expected.numpy(),
                                  atol=1e-5)


def test_transforms_plug_into_a_dataset_and_loader():
    from nabla.utils.data import DataLoader, Digits

    pipeline = T.Compose([T.RandomCrop(8, padding=1), T.Normalize((0.5,), (0.25,))])
    data = Digits(train=False, flatten=False, transform=pipeline)
    raw = Digits(train=False, flatten=False)
    x, y = next(iter(DataLoader(data, batch_size=16)))
    assert tuple(x.shape) == (16, 1, 8, 8) and x.dtype == nabla.float32 and tuple(y.shape) == (16,)
    assert x.numpy().min() == pytest.approx(-2.0)  # zero padding normalized: (0 - 0.5) / 0.25
    assert not numpy.array_equal(x.numpy(), (raw.tensors[0].numpy()[:16] - 0.5) / 0.25)

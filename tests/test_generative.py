"""Generative and self-supervised models: the GAN, WGAN-GP, VAE and SimCLR losses against
reference formulas written with PyTorch (forward and gradients), the gradient penalty's
second-order path to the critic's weights, the models' shapes and the measuring helpers."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from conftest import assert_close
from test_attention import nab

import nabla
import nabla.nn.functional as F
from nabla.models.dcgan import DCGANDiscriminator, DCGANGenerator, image_grid, upscale
from nabla.models.gan import (
    MLPDiscriminator,
    MLPGenerator,
    critic_loss,
    discriminator_loss,
    generator_loss,
    generator_loss_saturating,
    gradient_penalty,
    mode_coverage,
    ring_centers,
    wgan_generator_loss,
)
from nabla.models.simclr import SimCLR, augment_digits, linear_probe, nt_xent
from nabla.models.vae import VAE, ConvVAE, elbo, gaussian_kl, reparameterize, vae_loss

DTYPES = [torch.float32, torch.float64]


def leaves(*shapes, dtype=torch.float64, scale=1.0):
    ts = [(torch.randn(*s, dtype=dtype) * scale).requires_grad_() for s in shapes]
    return ts, [nab(t, requires_grad=True) for t in ts]


def check(n_out, t_out, t_in, n_in, what):
    """Forward equal; backward with a random upstream gradient equal for every input."""
    assert_close(n_out, t_out, what=f"{what} forward")
    g = torch.randn_like(t_out)
    t_out.backward(g)
    n_out.backward(nab(g))
    for i, (a, b) in enumerate(zip(n_in, t_in)):
        assert_close(a.grad, b.grad, what=f"{what} grad of input {i}")


# -- NT-Xent ----------------------------------------------------------------------------------
def torch_nt_xent(z1, z2, t):
    """The SimCLR paper's formula, written out:
    l(i, j) = -log(e^{s_ij / t} / sum_{k != i} e^{s_ik / t})."""
    z = torch.cat([z1, z2])
    z = z / z.norm(dim=1, keepdim=True)
    s = z @ z.T / t
    n2 = len(z)
    losses = []
    for i in range(n2):
        j = (i + n2 // 2) % n2
        others = torch.cat([s[i, :i], s[i, i + 1:]])
        losses.append(-(s[i, j] - torch.logsumexp(others, 0)))
    return torch.stack(losses).mean()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("t", [0.1, 0.5, 1.0])
def test_nt_xent_matches_torch_formula(dtype, t):
    (a, b), (na, nb) = leaves((6, 5), (6, 5), dtype=dtype)
    out, ref = nt_xent(na, nb, t), torch_nt_xent(a, b, t)
    assert_close(out, ref, what="nt_xent")
    out.backward()
    ref.backward()
    assert_close(na.grad, a.grad, what="grad z1")
    assert_close(nb.grad, b.grad, what="grad z2")


def test_nt_xent_limits():
    z = nabla.ones(4, 3)
    assert math.isclose(nt_xent(z, z).item(), math.log(7), rel_tol=1e-6)  # all similarities equal
    e = nabla.eye(4)  # partners identical, negatives orthogonal: loss falls as t falls
    assert nt_xent(e, e, 0.1).item() < nt_xent(e, e, 1.0).item() < math.log(7)


# -- Gaussian KL and the ELBO -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_kl_matches_torch_distributions(dtype):
    (mu, logvar), (nmu, nlogvar) = leaves((5, 3), (5, 3), dtype=dtype)
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, (0.5 * logvar).exp()),
        torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(1)
    check(gaussian_kl(nmu, nlogvar), ref, (mu, logvar), (nmu, nlogvar), "gaussian_kl")


def test_gaussian_kl_is_zero_at_the_prior():
    assert gaussian_kl(nabla.zeros(2, 4), nabla.zeros(2, 4)).abs().max().item() == 0.0


def test_reparameterize_gradients():
    (mu, logvar), (nmu, nlogvar) = leaves((4, 2), (4, 2))
    nabla.manual_seed(3)
    z = reparameterize(nmu, nlogvar)
    nabla.manual_seed(3)
    eps = nabla.randn(4, 2, dtype=nabla.float64).numpy()
    np.testing.assert_allclose(z.detach().numpy(), mu.detach().numpy() + np.exp(
        0.5 * logvar.detach().numpy()) * eps, rtol=1e-12)
    z.sum().backward()
    np.testing.assert_allclose(nmu.grad.numpy(), 1.0)
    np.testing.assert_allclose(nlogvar.grad.numpy(), 0.5 * np.exp(0.5 * logvar.detach().numpy())
                               * eps, rtol=1e-12)


def test_vae_loss_and_elbo_match_torch():
    (lg, mu, lv), (nlg, nmu, nlv) = leaves((5, 1, 8, 8), (5, 2), (5, 2))
    x = torch.rand(5, 1, 8, 8, dtype=torch.float64)
    kl = 0.5 * (mu ** 2 + lv.exp() - 1 - lv).sum(1)
    ref = TF.binary_cross_entropy_with_logits(lg, x, reduction="sum") / 5 + kl.mean()
    loss, recon, nkl = vae_loss(nlg, nab(x), nmu, nlv)
    check(loss, ref, (lg, mu, lv), (nlg, nmu, nlv), "vae_loss")
    assert_close(recon + nkl, ref.detach(), what="recon + kl")
    per = elbo(None, nab(x), nlg.detach(), nmu.detach(), nlv.detach())
    assert per.shape == (5,) and math.isclose(-per.mean().item(), ref.item(), rel_tol=1e-10)


@pytest.mark.parametrize("cls", [VAE, ConvVAE])
def test_vaes_shapes_and_a_step_lowers_the_loss(cls):
    # Binary pixels, on with a probability rising from 0.1 to 0.9 across the image: something to
    # learn. Uniform noise has little a 3-d latent can capture (the loss starts at 64 ln 2 and
    # 5 steps moved it by tenths of a nat), and the ConvVAE's loss rose for 1 seed in 7.
    x = (nabla.rand(16, 1, 8, 8) < nabla.linspace(0.1, 0.9, 64).reshape(1, 1, 8, 8)).float()
    model = cls(latent_dim=3)
    logits, mu, logvar = model(x)
    assert logits.shape == x.shape and mu.shape == logvar.shape == (16, 3)
    assert model.decode(nabla.randn(4, 3)).reshape(4, 1, 8, 8).shape == (4, 1, 8, 8)
    opt = nabla.optim.Adam(model.parameters(), lr=1e-2)
    model.eval()  # z = mu: a deterministic loss to compare
    before = vae_loss(*model(x)[:1], x, *model(x)[1:])[0].item()
    model.train()
    for _ in range(8):
        loss = vae_loss(*model(x)[:1], x, *model(x)[1:])[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    assert vae_loss(*model(x)[:1], x, *model(x)[1:])[0].item() < before


# -- GAN losses -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_gan_losses_match_torch_formulas(dtype):
    (r, f), (nr, nf) = leaves((7, 1), (5, 1), dtype=dtype, scale=3.0)
    ref = -torch.log(torch.sigmoid(r)).mean() - torch.log(1 - torch.sigmoid(f)).mean()
    check(discriminator_loss(nr, nf), ref, (r, f), (nr, nf), "discriminator_loss")
    (r, f), (nr, nf) = leaves((7, 1), (5, 1), dtype=dtype, scale=3.0)
    sr = torch.sigmoid(r)  # one-sided label smoothing: real target 0.9
    ref = -(0.9 * sr.log() + 0.1 * (1 - sr).log()).mean() - (1 - torch.sigmoid(f)).log().mean()
    check(discriminator_loss(nr, nf, real_label=0.9), ref, (r, f), (nr, nf), "smoothed D loss")
    (f,), (nf,) = leaves((5, 1), dtype=dtype, scale=3.0)
    check(generator_loss(nf), -torch.log(torch.sigmoid(f)).mean(), (f,), (nf,),
          "generator_loss (non-saturating)")
    (f,), (nf,) = leaves((5, 1), dtype=dtype, scale=3.0)
    check(generator_loss_saturating(nf), torch.log(1 - torch.sigmoid(f)).mean(), (f,), (nf,),
          "generator_loss_saturating")
    (r, f), (nr, nf) = leaves((7, 1), (5, 1), dtype=dtype)
    check(critic_loss(nr, nf), f.mean() - r.mean(), (r, f), (nr, nf), "critic_loss")
    (f,), (nf,) = leaves((5, 1), dtype=dtype)
    check(wgan_generator_loss(nf), -f.mean(), (f,), (nf,), "wgan_generator_loss")


def test_non_saturating_loss_keeps_its_gradient_when_d_rejects():
    logit = nabla.tensor([[-15.0]], requires_grad=True)
    generator_loss(logit).backward()
    strong = abs(logit.grad.item())
    logit.grad = None
    generator_loss_saturating(logit).backward()
    assert strong > 0.99 and abs(logit.grad.item()) < 1e-6


# -- WGAN-GP: the penalty's gradient reaches the critic's weights --------------------------------
def test_gradient_penalty_matches_torch_and_reaches_the_critic_weights():
    critic = MLPDiscriminator(2, (16, 16)).double()
    twin = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.LeakyReLU(0.2),
                               torch.nn.Linear(16, 16), torch.nn.LeakyReLU(0.2),
                               torch.nn.Linear(16, 1)).double()
    critic.load_state_dict({k: v.numpy().copy() for k, v in twin.state_dict().items()})
    real, fake = torch.randn(8, 2, dtype=torch.float64), torch.randn(8, 2, dtype=torch.float64)
    eps = torch.rand(8, 1, dtype=torch.float64)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_()
    (g,) = torch.autograd.grad(twin(x_hat).sum(), x_hat, create_graph=True)
    # With the 1e-12 that gradient_penalty adds under the root (a finite gradient at g = 0):
    # g.norm() differs from it by 5e-13 / |g|^2 relatively, past float64's tolerance for the
    # |g| ~ 2e-3 that 1 seed in 100 gives.
    ref = (((g.square().sum(1) + 1e-12).sqrt() - 1) ** 2).mean()
    ref.backward()
    gp = gradient_penalty(critic, nab(real), nab(fake), nab(eps))
    assert_close(gp, ref.detach(), what="gradient penalty")
    gp.backward()
    tparams = dict(twin.named_parameters())
    for name, p in critic.named_parameters():
        if name.endswith("weight"):  # piecewise-linear critic: d(grad_x f)/d(bias) = 0
            assert p.grad is not None and p.grad.abs().max().item() > 0, name
            assert_close(p.grad, tparams[name].grad, what=f"penalty grad of {name}")
        else:
            assert p.grad is None or p.grad.abs().max().item() == 0, name


def test_gradient_penalty_is_zero_for_a_unit_slope_critic():
    critic = nabla.nn.Linear(3, 1)  # gradient (0.6, 0, 0.8) everywhere: norm 1
    with nabla.no_grad():
        critic.weight.copy_(nabla.tensor([[0.6, 0.0, 0.8]]))
    gp = gradient_penalty(critic, nabla.randn(5, 3), nabla.randn(5, 3))
    assert gp.item() < 1e-12


# -- models and helpers -----------------------------------------------------------------------
def test_gan_model_shapes():
    assert MLPGenerator(8, (16,), 2)(nabla.randn(5, 8)).shape == (5, 2)
    out = MLPGenerator(8, (16,), 64, out_activation="tanh")(nabla.randn(5, 8))
    assert out.abs().max().item() <= 1.0
    bn = MLPGenerator(8, (16,), 2, batch_norm=True)
    assert isinstance(bn[1], nabla.nn.BatchNorm1d) and bn(nabla.randn(5, 8)).shape == (5, 2)
    d = MLPDiscriminator(2, (16,), dropout=0.5)
    assert isinstance(d[2], nabla.nn.Dropout) and d(nabla.randn(5, 2)).shape == (5, 1)
    g, d = DCGANGenerator(16, 8), DCGANDiscriminator(8)
    img = g(nabla.randn(3, 16))
    assert img.shape == (3, 1, 16, 16) and img.abs().max().item() <= 1.0
    assert d(img).shape == (3, 1)
    loss = discriminator_loss(d(img.detach()), d(img))
    loss.backward()
    assert all(p.grad is not None for p in d.parameters())
    assert all(p.grad is not None for p in g.parameters())


def test_upscale_is_nearest_interpolation_and_image_grid_tiles():
    x = np.random.rand(2, 1, 8, 8).astype(np.float32)
    ref = F.interpolate(nabla.tensor(x), scale_factor=2, mode="nearest").numpy()
    np.testing.assert_array_equal(upscale(x, 2), ref)
    grid = image_grid(np.zeros((5, 1, 8, 8)), nrow=4, pad=1)
    assert grid.shape == (2 * 9 + 1, 4 * 9 + 1)
    assert grid[1:9, 1:9].max() == 0 and grid[10:18, 10:18].min() == 1  # 6th cell empty


def test_mode_coverage_counts_modes():
    rng = np.random.default_rng(0)
    centers = ring_centers(8)
    spread = centers[rng.integers(0, 8, 800)] + rng.normal(0, 0.05, (800, 2))
    collapsed = centers[[2]] + rng.normal(0, 0.05, (800, 2))
    assert mode_coverage(spread, centers, 0.05)["modes_covered"] == 8
    c = mode_coverage(collapsed, centers, 0.05)
    assert c["modes_covered"] == 1 and c["counts"][2] > 780
    assert mode_coverage(np.zeros((100, 2)), centers, 0.05)["high_quality"] == 0.0


def test_simclr_shapes_augmentations_and_a_step(rng):
    x = rng.random((6, 1, 8, 8)).astype(np.float32)
    a, b = augment_digits(x, rng), augment_digits(x, rng)
    assert a.shape == x.shape and a.dtype == x.dtype and 0 <= a.min() and a.max() <= 1
    assert np.abs(a - b).mean() > 0.01  # two different views
    same = augment_digits(x, rng, max_shift=0, max_angle=0, scale=(1, 1), cutout=0, noise=0)
    ratio = same.sum((1, 2, 3)) / x.sum((1, 2, 3))  # only the contrast factor is left
    assert 0.6 - 1e-6 <= ratio.min() and ratio.max() <= 1.2 + 1e-6
    model = SimCLR(projection_dim=8)
    z1, z2 = model(nabla.tensor(a)), model(nabla.tensor(b))
    assert z1.shape == (6, 8) and model.features(nabla.tensor(a)).shape == (6, 64)
    nt_xent(z1, z2).backward()
    assert all(p.grad is not None for p in model.parameters())


def test_linear_probe_separates_separable_features(rng):
    y = rng.integers(0, 3, 90)
    feats = np.eye(3)[y] * 3 + rng.normal(0, 0.3, (90, 3))
    assert linear_probe(feats[:60], y[:60], feats[60:], y[60:], epochs=100) > 0.95
    noise = rng.normal(0, 1, (90, 3))
    assert linear_probe(noise[:60], y[:60], noise[60:], y[60:], epochs=100) < 0.8


# -- modules against PyTorch twins (same state_dict: outputs and every parameter's gradient) ----
def twin_check(nmod, tmod, x, train: bool = True):
    assert list(nmod.state_dict()) == list(tmod.state_dict())
    nmod.load_state_dict({k: v.detach().numpy().copy() for k, v in tmod.state_dict().items()})
    nmod.train(train)
    tmod.train(train)
    out = tmod(x)
    outs = out if isinstance(out, tuple) else (out,)
    nouts = nmod(nab(x))
    nouts = nouts if isinstance(nouts, tuple) else (nouts,)
    total, ntotal = 0, 0
    for i, (a, b) in enumerate(zip(nouts, outs)):
        assert_close(a, b, what=f"output {i}")
        g = torch.randn_like(b)
        total, ntotal = total + (b * g).sum(), ntotal + (a * nab(g)).sum()
    total.backward()
    ntotal.backward()
    tparams = dict(tmod.named_parameters())
    for name, p in nmod.named_parameters():
        assert_close(p.grad, tparams[name].grad, what=f"grad of {name}")


def test_dcgan_generator_and_discriminator_match_torch_twins():
    T = torch.nn
    w, z = 4, 8
    tg = T.Module()
    tg.net = T.Sequential(
        T.ConvTranspose2d(z, 4 * w, 4, 1, 0, bias=False), T.BatchNorm2d(4 * w), T.ReLU(),
        T.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1, bias=False), T.BatchNorm2d(2 * w), T.ReLU(),
        T.ConvTranspose2d(2 * w, 1, 4, 2, 1), T.Tanh())
    tg.forward = lambda v: tg.net(v)
    twin_check(DCGANGenerator(z, w), tg, torch.randn(3, z, 1, 1))
    td = T.Module()
    td.net = T.Sequential(
        T.Conv2d(1, 2 * w, 4, 2, 1), T.LeakyReLU(0.2), T.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False),
        T.BatchNorm2d(4 * w), T.LeakyReLU(0.2), T.Conv2d(4 * w, 1, 4, 1, 0))
    td.forward = lambda v: td.net(v).reshape(v.shape[0], 1)
    twin_check(DCGANDiscriminator(w), td, torch.randn(3, 1, 16, 16))


class TorchConvVAE(torch.nn.Module):
    """The ConvVAE written in PyTorch; eval mode (z = mu), as nabla's forward in eval mode."""

    def __init__(self, width=4, latent=2):
        super().__init__()
        T = torch.nn
        self.encoder = T.Sequential(T.Conv2d(1, width, 3, 1, 1), T.ReLU(),
                                    T.Conv2d(width, 2 * width, 4, 2, 1), T.ReLU(), T.Flatten())
        self.to_stats = T.Linear(2 * width * 16, 2 * latent)
        self.from_latent = T.Sequential(T.Linear(latent, 2 * width * 16), T.ReLU())
        self.decoder = T.Sequential(T.ConvTranspose2d(2 * width, width, 4, 2, 1), T.ReLU(),
                                    T.Conv2d(width, 1, 3, 1, 1))
        self.width = width

    def forward(self, x):
        mu, logvar = self.to_stats(self.encoder(x)).chunk(2, 1)
        h = self.from_latent(mu).reshape(len(x), 2 * self.width, 4, 4)
        return self.decoder(h).reshape(x.shape), mu, logvar


def test_conv_vae_matches_torch_twin_in_eval_mode():
    twin_check(ConvVAE(1, 8, 2, width=4), TorchConvVAE(4, 2), torch.rand(3, 1, 8, 8),
               train=False)

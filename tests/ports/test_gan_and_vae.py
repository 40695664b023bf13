"""Ports of the DCGAN tutorial and of pytorch/examples vae (see harness.py for how a port test
works)."""

import numpy as np
import pytest
from harness import CONV_TRAINING, assert_agree, run_both, run_nabla

NC, NZ, NGF, NDF = 3, 8, 8, 8


# -- the DCGAN tutorial ---------------------------------------------------------------------------
def dcgan_models(nn):
    """weights_init, the Generator and the Discriminator (16 x 16 images)."""

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)

    class Generator(nn.Module):
        def __init__(self, ngpu):
            super(Generator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                nn.ConvTranspose2d(NZ, NGF * 4, 4, 1, 0, bias=False),  # (ngf*4) x 4 x 4
                nn.BatchNorm2d(NGF * 4),
                nn.ReLU(True),
                nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False),  # 8 x 8
                nn.BatchNorm2d(NGF * 2),
                nn.ReLU(True),
                nn.ConvTranspose2d(NGF * 2, NC, 4, 2, 1, bias=False),  # nc x 16 x 16
                nn.Tanh(),
            )

        def forward(self, input):
            return self.main(input)

    class Discriminator(nn.Module):
        def __init__(self, ngpu):
            super(Discriminator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                nn.Conv2d(NC, NDF, 4, 2, 1, bias=False),  # ndf x 8 x 8
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False),  # (ndf*2) x 4 x 4
                nn.BatchNorm2d(NDF * 2),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(NDF * 2, 1, 4, 1, 0, bias=False),
                nn.Sigmoid(),
            )

        def forward(self, input):
            return self.main(input)

    return weights_init, Generator, Discriminator


def dcgan_training_loop(torch, nn, optim, data, twin, netG, netD, images, device):
    """Per batch: update D on a real and a fake batch, then update G through D."""
    lr, beta1 = 0.0002, 0.5
    criterion = nn.BCELoss()
    real_label, fake_label = 1., 0.
    optimizerD = optim.Adam(netD.parameters(), lr=lr, betas=(beta1, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=lr, betas=(beta1, 0.999))
    dataloader = data.DataLoader(data.TensorDataset(torch.from_numpy(images)), batch_size=4)
    G_losses, D_losses, stats = [], [], []
    for _epoch in range(2):
        for _i, batch in enumerate(dataloader, 0):
            # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            real_cpu = batch[0].to(device)
            b_size = real_cpu.size(0)
            label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
            output = netD(real_cpu).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()
            noise = twin.randn(b_size, NZ, 1, 1)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach()).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()
            # (2) Update G: maximize log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)  # fake labels are real for generator cost
            output = netD(fake).view(-1)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()
            G_losses.append(errG.item())
            D_losses.append(errD.item())
            stats.append([D_x, D_G_z1, D_G_z2])
    return {"G": G_losses, "D": D_losses, "stats": stats}


def dcgan(torch, nn, F, optim, data, twin, images, init_stats):
    ngpu = 0
    torch.backends.cudnn.benchmark = True
    weights_init, Generator, Discriminator = dcgan_models(nn)
    device = torch.device("cuda:0" if (torch.cuda.is_available() and ngpu > 0) else "cpu")
    netG = Generator(ngpu).to(device)
    netG.apply(weights_init)
    netD = Discriminator(ngpu).to(device)
    netD.apply(weights_init)
    init_stats.append({"g_std": netG.main[0].weight.std().item(),
                       "d_bn_weight_mean": netD.main[3].weight.mean().item(),
                       "d_bn_bias": netD.main[3].bias.abs().max().item()})
    twin.model(netG)
    twin.model(netD)
    fixed_noise = twin.randn(6, NZ, 1, 1)
    out = dcgan_training_loop(torch, nn, optim, data, twin, netG, netD, images, device)
    with torch.no_grad():
        fake = netG(fixed_noise).detach().cpu()
    return {**out, "fake": fake, "running_var": netD.main[3].running_var}


def test_dcgan(rng):
    images = np.tanh(rng.standard_normal((8, 3, 16, 16))).astype(np.float32)
    init_stats = []  # one entry per run
    want, got = run_both(dcgan, np.float32, images=images, init_stats=init_stats)
    # A weight whose first gradient is 0 up to float32 rounding gets Adam's first step, +-lr, by
    # the sign of that rounding: through batch norm, a few pixels of the trained generator's
    # images (|x| < 1) then part by ~4e-4 (1 seed in 200); the losses stay within CONV_TRAINING
    np.testing.assert_allclose(got.pop("fake"), want.pop("fake"), rtol=2e-3, atol=2e-3)
    assert_agree(want, got, np.float32, CONV_TRAINING)
    for s in init_stats:  # weights_init ran through model.apply
        assert 0.015 < s["g_std"] < 0.025, s
        assert abs(s["d_bn_weight_mean"] - 1) < 0.02 and s["d_bn_bias"] == 0, s


# -- pytorch/examples VAE -------------------------------------------------------------------------
def vae_model(torch, nn, F, randn_like, n_in=64, n_hid=32, n_z=4):
    class VAE(nn.Module):
        def __init__(self):
            super(VAE, self).__init__()
            self.fc1 = nn.Linear(n_in, n_hid)
            self.fc21 = nn.Linear(n_hid, n_z)
            self.fc22 = nn.Linear(n_hid, n_z)
            self.fc3 = nn.Linear(n_z, n_hid)
            self.fc4 = nn.Linear(n_hid, n_in)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar):
            std = torch.exp(0.5 * logvar)
            eps = randn_like(std)
            return mu + eps * std

        def decode(self, z):
            h3 = F.relu(self.fc3(z))
            return torch.sigmoid(self.fc4(h3))

        def forward(self, x):
            mu, logvar = self.encode(x.view(-1, n_in))
            z = self.reparameterize(mu, logvar)
            return self.decode(z), mu, logvar

    def loss_function(recon_x, x, mu, logvar):
        BCE = F.binary_cross_entropy(recon_x, x.view(-1, n_in), reduction="sum")
        KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return BCE + KLD

    return VAE, loss_function


def vae_train(model, optimizer, loss_function, train_loader, device):
    model.train()
    train_loss = 0
    for _batch_idx, (data_, _) in enumerate(train_loader):
        data_ = data_.to(device)
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data_)
        loss = loss_function(recon_batch, data_, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    return train_loss / len(train_loader.dataset)


def vae_test(torch, model, loss_function, test_loader):
    model.eval()
    test_loss = 0
    with torch.no_grad():
        for i, (data_, _) in enumerate(test_loader):
            recon_batch, mu, logvar = model(data_)
            test_loss += loss_function(recon_batch, data_, mu, logvar).item()
            if i == 0:
                n = min(data_.size(0), 4)
                comparison = torch.cat([data_[:n], recon_batch.view(8, 1, 8, 8)[:n]])
    return test_loss / len(test_loader.dataset), comparison


def vae(torch, nn, F, optim, data, twin, images, fixed_noise=True):
    n_z = 4
    randn_like = twin.randn_like if fixed_noise else torch.randn_like
    VAE, loss_function = vae_model(torch, nn, F, randn_like, n_z=n_z)
    device = torch.device("cpu")
    model = twin.model(VAE().to(device))
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    train_set = data.TensorDataset(torch.from_numpy(images[:32]), torch.zeros(32))
    test_set = data.TensorDataset(torch.from_numpy(images[32:]), torch.zeros(8))
    train_loader = data.DataLoader(train_set, batch_size=8, shuffle=False)
    test_loader = data.DataLoader(test_set, batch_size=8, shuffle=False)
    train_losses, test_losses = [], []
    for _epoch in range(1, 4):
        train_losses.append(vae_train(model, optimizer, loss_function, train_loader, device))
        test_loss, comparison = vae_test(torch, model, loss_function, test_loader)
        test_losses.append(test_loss)
        with torch.no_grad():
            sample = twin.randn(16, n_z) if fixed_noise else torch.randn(16, n_z)
            sample = model.decode(sample).cpu()
    return {"train": train_losses, "test": test_losses, "comparison": comparison,
            "sample": sample.view(16, 1, 8, 8)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vae(dtype, rng):
    images = rng.uniform(0, 1, (40, 1, 8, 8)).astype(dtype)
    want, got = run_both(vae, dtype, images=images)
    assert_agree(want, got, dtype, CONV_TRAINING)
    assert want["train"][-1] < want["train"][0]


def test_vae_with_fresh_noise_trains(rng):
    images = (rng.uniform(0, 1, (40, 1, 8, 8)) > 0.5).astype(np.float32)
    out = run_nabla(vae, images=images, fixed_noise=False)
    assert np.isfinite(out["train"]).all() and out["train"][-1] < out["train"][0]
    assert out["sample"].shape == (16, 1, 8, 8)

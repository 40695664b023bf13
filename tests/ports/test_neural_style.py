"""Port of the "Neural style transfer" tutorial: content and style losses as transparent modules
inserted into a small CNN (standing for VGG19), LBFGS optimizing the image. See harness.py for
how a port test works."""

import numpy as np
import pytest
from harness import CONV_TRAINING, assert_agree, run_both


def loss_modules(torch, nn, F):
    """ContentLoss, StyleLoss (with its gram_matrix) and Normalization."""

    class ContentLoss(nn.Module):
        def __init__(self, target):
            super(ContentLoss, self).__init__()
            self.target = target.detach()

        def forward(self, input):
            self.loss = F.mse_loss(input, self.target)
            return input

    def gram_matrix(input):
        a, b, c, d = input.size()
        features = input.view(a * b, c * d)
        G = torch.mm(features, features.t())
        return G.div(a * b * c * d)

    class StyleLoss(nn.Module):
        def __init__(self, target_feature):
            super(StyleLoss, self).__init__()
            self.target = gram_matrix(target_feature).detach()

        def forward(self, input):
            G = gram_matrix(input)
            self.loss = F.mse_loss(G, self.target)
            return input

    class Normalization(nn.Module):
        def __init__(self, mean, std):
            super(Normalization, self).__init__()
            self.mean = torch.tensor(mean).view(-1, 1, 1)
            self.std = torch.tensor(std).view(-1, 1, 1)

        def forward(self, img):
            return (img - self.mean) / self.std

    return ContentLoss, StyleLoss, Normalization


def get_style_model_and_losses(torch, nn, F, cnn, mean, std, style_img, content_img,
                               content_layers=("conv_2",),
                               style_layers=("conv_1", "conv_2", "conv_3")):
    ContentLoss, StyleLoss, Normalization = loss_modules(torch, nn, F)
    normalization = Normalization(mean, std)
    content_losses, style_losses = [], []
    model = nn.Sequential(normalization)
    i = 0
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = "conv_{}".format(i)
        elif isinstance(layer, nn.ReLU):
            name = "relu_{}".format(i)
            layer = nn.ReLU(inplace=False)
        elif isinstance(layer, nn.MaxPool2d):
            name = "pool_{}".format(i)
        elif isinstance(layer, nn.BatchNorm2d):
            name = "bn_{}".format(i)
        else:
            raise RuntimeError("Unrecognized layer: {}".format(layer.__class__.__name__))
        model.add_module(name, layer)
        if name in content_layers:
            target = model(content_img).detach()
            content_loss = ContentLoss(target)
            model.add_module("content_loss_{}".format(i), content_loss)
            content_losses.append(content_loss)
        if name in style_layers:
            target_feature = model(style_img).detach()
            style_loss = StyleLoss(target_feature)
            model.add_module("style_loss_{}".format(i), style_loss)
            style_losses.append(style_loss)
    for i in range(len(model) - 1, -1, -1):
        if isinstance(model[i], ContentLoss) or isinstance(model[i], StyleLoss):
            break
    model = model[:(i + 1)]
    return model, style_losses, content_losses


def run_style_transfer(torch, optim, model, style_losses, content_losses, input_img, num_steps,
                       style_weight=1e4, content_weight=1):
    """LBFGS on the image, the closure clamping it to [0, 1] first; returns the optimizer and
    the (style, content) scores of every evaluation."""
    input_img.requires_grad_(True)
    model.eval()
    model.requires_grad_(False)
    optimizer = optim.LBFGS([input_img])
    run, history = [0], []
    while run[0] <= num_steps:
        def closure():
            with torch.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_img)
            style_score = 0
            content_score = 0
            for sl in style_losses:
                style_score += sl.loss
            for cl in content_losses:
                content_score += cl.loss
            style_score *= style_weight
            content_score *= content_weight
            loss = style_score + content_score
            loss.backward()
            run[0] += 1
            history.append([style_score.item(), content_score.item()])
            return style_score + content_score

        optimizer.step(closure)
    with torch.no_grad():
        input_img.clamp_(0, 1)
    return optimizer, history


def neural_style(torch, nn, F, optim, data, twin, content, style, num_steps=6):
    cnn = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True),
                        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(inplace=True),
                        nn.MaxPool2d(2, 2), nn.Conv2d(8, 16, 3, padding=1),
                        nn.ReLU(inplace=True), nn.Conv2d(16, 16, 3, padding=1))
    cnn = twin.model(cnn).eval()
    content_img, style_img = torch.from_numpy(content), torch.from_numpy(style)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    input_img = content_img.clone()
    model, style_losses, content_losses = get_style_model_and_losses(
        torch, nn, F, cnn, mean, std, style_img, content_img)
    optimizer, history = run_style_transfer(torch, optim, model, style_losses, content_losses,
                                            input_img, num_steps)
    return {"history": history, "image": input_img, "names": list(dict(model.named_children())),
            "state": {k: v for k, v in optimizer.state[input_img].items()
                      if k in ("func_evals", "n_iter", "t")}}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_neural_style_with_lbfgs(dtype, rng):
    content = rng.uniform(0, 1, (1, 3, 12, 12)).astype(dtype)
    style = rng.uniform(0, 1, (1, 3, 12, 12)).astype(dtype)
    want, got = run_both(neural_style, dtype, content=content, style=style)
    if dtype == np.float32:  # LBFGS's 20 steps, the clamp between them and the ReLUs amplify
        # float32 rounding: a pixel of the image (values in [0, 1]) parts by 2e-3 to 7e-3 for 1
        # seed in 75 while the scores agree to CONV_TRAINING. The float64 run compares the image;
        # here its shape and the clamp.
        image, ref = got.pop("image"), want.pop("image")
        assert image.shape == ref.shape and 0 <= image.min() and image.max() <= 1
    assert_agree(want, got, dtype, CONV_TRAINING)
    assert want["history"][-1][0] < want["history"][0][0]
    assert want["names"][-1] == "style_loss_3"

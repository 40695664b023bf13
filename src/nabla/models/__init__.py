"""The model zoo: one file per family, each docstring saying what idea the model introduced."""

from nabla.models.mlp import MLP

__all__ = ["MLP"]
from nabla.models.alexnet import AlexNet, AlexNetSmall, alexnet  # noqa: E402  (CNN zoo)
from nabla.models.char_lm import CharLM, CharVocab, sample  # noqa: E402  (character LM)
from nabla.models.cnn1d import CNN1d, cnn1d_bn  # noqa: E402
from nabla.models.densenet import DenseNet, densenet121  # noqa: E402
from nabla.models.googlenet import GoogLeNet, googlenet  # noqa: E402
from nabla.models.gpt import GPT  # noqa: E402  (decoder-only Transformer LM)
from nabla.models.lenet import ConvNet, LeNet5, cnn_for  # noqa: E402
from nabla.models.resnet import (  # noqa: E402
    CifarResNet,
    ResNet,
    resnet18,
    resnet20,
    resnet34,
    resnet50,
    resnet56,
    resnet101,
)
from nabla.models.seq2seq import Seq2Seq  # noqa: E402  (GRU encoder-decoder with attention)
from nabla.models.vgg import (  # noqa: E402
    VGG,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)
from nabla.models.vit import ViT  # noqa: E402  (Vision Transformer)
from nabla.models.dcgan import DCGANDiscriminator, DCGANGenerator  # noqa: E402  (DCGAN)
from nabla.models.gan import MLPDiscriminator, MLPGenerator  # noqa: E402  (GAN, WGAN-GP)
from nabla.models.simclr import SimCLR  # noqa: E402  (contrastive self-supervised learning)
from nabla.models.vae import VAE, ConvVAE  # noqa: E402  (variational autoencoder)

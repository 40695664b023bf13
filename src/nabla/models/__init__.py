"""The model zoo: one file per family, each docstring saying what idea the model introduced."""

from nabla.models.alexnet import AlexNet, AlexNetSmall, alexnet
from nabla.models.bert import (
    BERT,
    SPECIAL_TOKENS,
    BertForMaskedLM,
    BertForSequenceClassification,
    BertVocab,
    MaskedLMHead,
    mask_tokens,
)
from nabla.models.char_lm import CharLM, CharVocab, sample
from nabla.models.cnn1d import CNN1d, cnn1d_bn
from nabla.models.dcgan import DCGANDiscriminator, DCGANGenerator
from nabla.models.densenet import DenseNet, densenet121
from nabla.models.dqn import DQNAgent, QNetwork, ReplayBuffer, dqn_loss, td_targets, train_dqn
from nabla.models.gan import MLPDiscriminator, MLPGenerator
from nabla.models.googlenet import GoogLeNet, googlenet
from nabla.models.gpt import GPT
from nabla.models.lenet import ConvNet, LeNet5, cnn_for
from nabla.models.mlp import MLP
from nabla.models.resnet import (
    CifarResNet,
    ResNet,
    resnet18,
    resnet20,
    resnet34,
    resnet50,
    resnet56,
    resnet101,
)
from nabla.models.seq2seq import Seq2Seq
from nabla.models.sequence import SequenceClassifier, sequence_model_for
from nabla.models.simclr import SimCLR
from nabla.models.vae import VAE, ConvVAE
from nabla.models.vgg import (
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
from nabla.models.vit import ViT

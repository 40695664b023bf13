"""Optimizers and learning-rate schedulers, with the API of ``torch.optim``."""

from nabla.optim import lr_scheduler
from nabla.optim.adadelta import Adadelta
from nabla.optim.adagrad import Adagrad
from nabla.optim.adam import Adam, AdamW
from nabla.optim.lbfgs import LBFGS
from nabla.optim.optimizer import Optimizer
from nabla.optim.rmsprop import RMSprop
from nabla.optim.sgd import SGD

__all__ = ["SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "LBFGS", "Optimizer",
           "lr_scheduler"]

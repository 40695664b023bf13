"""Optimizers and learning-rate schedulers, with the API of ``torch.optim``."""

from nabla.optim import lr_scheduler
from nabla.optim.adadelta import Adadelta
from nabla.optim.adagrad import Adagrad
from nabla.optim.adam import Adam, AdamW
from nabla.optim.adamax import Adamax
from nabla.optim.asgd import ASGD
from nabla.optim.lbfgs import LBFGS
from nabla.optim.nadam import NAdam
from nabla.optim.optimizer import Optimizer
from nabla.optim.radam import RAdam
from nabla.optim.rmsprop import RMSprop
from nabla.optim.rprop import Rprop
from nabla.optim.sgd import SGD

__all__ = ["SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam", "RAdam",
           "Rprop", "ASGD", "LBFGS", "Optimizer", "lr_scheduler"]

"""Looking inside a model: the computation graph as a picture (``nabla.viz``), a per-layer
summary (``nabla.summary``) and gradient flow (vanishing and exploding gradients). NaN/Inf
provenance lives in ``nabla.autograd.detect_anomaly``."""

from nabla.diagnostics.gradient_flow import (
    check_gradients,
    gradient_norms,
    plot_gradient_flow,
    plot_time_step_norms,
    time_step_gradient_norms,
    track,
)
from nabla.diagnostics.graph import graph, render
from nabla.diagnostics.summary import ModelSummary, summary

__all__ = ["graph", "render", "check_gradients", "gradient_norms",
           "plot_gradient_flow", "plot_time_step_norms", "time_step_gradient_norms", "track",
           "ModelSummary", "summary"]

"""Porting lines about devices run unchanged: nabla.device, nabla.cuda (no GPU backend yet, so
the CPU is chosen), nabla.backends.cudnn flags, and clear errors for .cuda()."""

import pytest

import nabla
import nabla.nn as nn


def test_device_names_like_torch():
    d = nabla.device("cuda", 1)
    assert d == "cuda:1" and d.type == "cuda" and d.index == 1
    assert repr(d) == "device(type='cuda', index=1)"
    cpu = nabla.device("cpu")
    assert cpu == "cpu" and cpu.index is None and repr(cpu) == "device(type='cpu')"
    assert nabla.ones(2).device == cpu and nabla.ones(2).device.type == "cpu"
    with pytest.raises(RuntimeError, match="expected 'cpu', 'cuda' or 'mps'"):
        nabla.device("tpu")


def test_the_usual_porting_lines_pick_the_cpu():
    nabla.cuda.manual_seed_all(0)  # seeding helpers call these
    nabla.backends.cudnn.deterministic = True
    nabla.backends.cudnn.benchmark = False
    device = nabla.device("cuda" if nabla.cuda.is_available() else "cpu")
    assert device == "cpu" and nabla.cuda.device_count() == 0
    model = nn.Linear(3, 2).to(device)
    x = nabla.ones(4, 3).to(device)
    assert model(x).device == device


def test_the_mps_probe_of_pytorch_examples_picks_the_cpu():
    # pytorch/examples (mnist, dcgan): cuda if available, elif mps, else cpu
    use_mps = nabla.backends.mps.is_available()
    assert use_mps is False and nabla.backends.mps.is_built() is False
    device = nabla.device("cuda" if nabla.cuda.is_available() else
                          "mps" if use_mps else "cpu")
    assert device == "cpu"


def test_cuda_calls_say_there_is_no_gpu_backend():
    with pytest.raises(RuntimeError, match="no GPU backend"):
        nabla.ones(2).cuda()
    with pytest.raises(RuntimeError, match="no GPU backend"):
        nn.Linear(2, 2).cuda()
    with pytest.raises(RuntimeError, match="not available"):
        nabla.ones(2).to(nabla.device("cuda", 0))


def test_the_accelerator_porting_line_picks_the_cpu():
    import torch

    def pick(lib):
        acc = lib.accelerator
        return acc.current_accelerator().type if acc.is_available() else "cpu"

    assert pick(nabla) == pick(torch) == "cpu"  # torch here is the CPU build
    assert nabla.accelerator.current_accelerator() is None
    assert nabla.accelerator.device_count() == torch.accelerator.device_count() == 0
    nabla.accelerator.synchronize()
    with pytest.raises(RuntimeError, match="no accelerator backend"):
        nabla.accelerator.current_device_index()

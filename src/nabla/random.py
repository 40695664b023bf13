"""Random numbers: one global, seedable generator (PCG64), as ``torch.manual_seed`` expects.

A ``Generator`` can also be made on its own and passed to ``rand``, ``randperm`` or a
``DataLoader`` for a private stream. Its state is a uint8 tensor, so it can be checkpointed
without pickle.
"""

import numpy

from nabla.autograd.grad_mode import _trace

_STATE_BYTES = 16  # PCG64 keeps a 128-bit state and a 128-bit increment


class Generator:
    """A random stream: wraps ``numpy.random.Generator(PCG64)``."""

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self.np = numpy.random.Generator(numpy.random.PCG64(seed))

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        self.np = numpy.random.Generator(numpy.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        """Seed from fresh entropy; returns the seed used."""
        seed = int(numpy.random.SeedSequence().entropy % (2**63))
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The state as a uint8 tensor of 38 bytes (state, increment, cached 32-bit word)."""
        from nabla.creation import tensor

        st = self.np.bit_generator.state
        raw = (
            st["state"]["state"].to_bytes(_STATE_BYTES, "little")
            + st["state"]["inc"].to_bytes(_STATE_BYTES, "little")
            + bytes([st["has_uint32"], 0])
        )
        word = int(st["uinteger"]).to_bytes(4, "little")
        return tensor(numpy.frombuffer(raw + word, dtype=numpy.uint8).copy())

    def set_state(self, state) -> None:
        raw = bytes(numpy.asarray(state.numpy() if hasattr(state, "numpy") else state,
                                  dtype=numpy.uint8))
        if len(raw) != 2 * _STATE_BYTES + 6:
            raise ValueError(
                f"Generator.set_state: expected {2 * _STATE_BYTES + 6} bytes from get_state(), "
                f"got {len(raw)}"
            )
        n = _STATE_BYTES
        self.np.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {
                "state": int.from_bytes(raw[:n], "little"),
                "inc": int.from_bytes(raw[n: 2 * n], "little"),
            },
            "has_uint32": raw[2 * n],
            "uinteger": int.from_bytes(raw[2 * n + 2:], "little"),
        }


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the global generator (all of nabla's random ops draw from it)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


def numpy_generator(generator: Generator | None = None) -> numpy.random.Generator:
    """The NumPy generator behind ``generator`` (the global one when None)."""
    if _trace.tracer is not None:  # a replay would repeat the same draw: refuse
        _trace.tracer.refuse("a random draw (rand, randn, multinomial, ...)")
    return (generator or default_generator).np


def step_generator() -> numpy.random.Generator:
    """The global NumPy generator for a draw inside a plain step (``ops.reduce._plain``): a
    replay of ``nabla.jit.trace`` runs the step again, so it draws anew as an eager call does.
    Draws anywhere else go through ``numpy_generator``, which refuses to be traced."""
    return default_generator.np

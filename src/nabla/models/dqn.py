"""DQN: deep Q-networks (Mnih et al., 2013, "Playing Atari with Deep Reinforcement Learning";
Nature, 2015).

The setting is reinforcement learning: an agent sees a state s, takes an action a, and the
environment answers with a reward r and the next state s'. No label says which action was right;
the agent has to find the actions that maximize the discounted return r_0 + γ r_1 + γ² r_2 + ...
(γ < 1: a reward now is worth more than the same reward later).

Q-learning: Q(s, a) is the return expected after taking a in s and acting greedily afterwards.
It satisfies Bellman's equation Q(s, a) = E[r + γ max_a' Q(s', a')], so every observed
transition (s, a, r, s') gives a regression target, the TD (temporal-difference) target

    y = r + γ max_a' Q(s', a')          (y = r when s' ends the episode),

and Q(s, a) is pulled towards y; y is held fixed (no gradient flows into the target). DQN lets a
neural network be Q: the state goes in, one value per action comes out. Trained naively this
diverges; DQN's two fixes:

- Experience replay. Consecutive transitions of an episode are strongly correlated (the pole
  leans left for fifty steps in a row), and SGD assumes roughly i.i.d. samples: a network fitted
  to the last few steps forgets the rest. Transitions go into a large ring buffer and each update
  draws a random mini-batch from it, which breaks the correlation and reuses each transition many
  times.
- A target network. y depends on the very weights being updated, so every step moves its own
  target, and through the max the errors feed on themselves (a moving target diverges). A second
  copy θ⁻ computes y and is only synced to the online weights θ every N updates (hard), or pulled
  towards them slowly, θ⁻ ← τ θ + (1 - τ) θ⁻ (soft): between syncs the regression target stays
  still.

Exploration is ε-greedy: with probability ε a random action, otherwise argmax_a Q(s, a). ε decays
linearly from 1 (the Q-values mean nothing at first, so explore) to a small floor. The loss is the
Huber (smooth L1) loss of Q(s, a) - y: quadratic below 1, linear above, so the gradient of one
error is at most 1 in size (the paper's "error clipping") and a rare huge TD error cannot blow up
an update. The gradient norm is clipped as well.

Double DQN (van Hasselt et al., 2016): the max over noisy estimates is biased upwards (it picks
whichever action happens to be over-estimated). Choosing a' with the online network and valuing
it with the target network, y = r + γ Q_θ⁻(s', argmax_a' Q_θ(s', a')), removes most of that bias.

Terminated vs truncated: an episode that ends because the pole fell (terminated) has no future,
so y = r. One cut off by a time limit (truncated: CartPole stops at 500 steps) would have gone
on, so y still bootstraps from s'; treating the time-out as terminal would teach the network that
states near step 500 are worth nothing. The buffer therefore stores ``terminated`` only.

The environment is passed in (gymnasium's API: ``reset(seed=) -> (obs, info)``, ``step(a) ->
(obs, reward, terminated, truncated, info)``); nothing here imports gymnasium.
"""

import copy
from collections import namedtuple

import numpy

from nabla import nn
from nabla.autograd.grad_mode import no_grad
from nabla.creation import from_numpy, tensor
from nabla.nn import functional as F
from nabla.nn.utils.clip_grad import clip_grad_norm_
from nabla.optim.adam import Adam
from nabla.random import Generator, numpy_generator
from nabla.tensor import Tensor

__all__ = ["QNetwork", "ReplayBuffer", "Transition", "DQNAgent", "td_targets", "dqn_loss",
           "linear_epsilon", "hard_update_", "soft_update_", "greedy_action", "train_dqn",
           "evaluate_greedy"]

Transition = namedtuple("Transition", ["obs", "actions", "rewards", "next_obs", "terminated"])
Transition.__doc__ = """A mini-batch of B transitions: obs and next_obs (B, *obs_shape) float32,
actions (B,) int64, rewards (B,) float32, terminated (B,) float32 (1.0 where s' ends the episode
for good; 0.0 where it goes on or was only truncated)."""


class QNetwork(nn.Module):
    """An MLP from a state to one Q-value per action: Linear -> ReLU, repeated, then Linear.

    Args:
        obs_dim: size of the (flat) observation, e.g. 4 for CartPole.
        n_actions: number of discrete actions, e.g. 2.
        hidden: sizes of the hidden layers.

    Shape: (N, obs_dim) -> (N, n_actions).
    """

    def __init__(self, obs_dim: int, n_actions: int, hidden=(128, 128)) -> None:
        super().__init__()
        self.n_actions = n_actions
        layers, width = [], obs_dim
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, n_actions))
        self.net = nn.Sequential(*layers)

    def forward(self, obs: Tensor) -> Tensor:
        return self.net(obs)


class ReplayBuffer:
    """A ring buffer of the last ``capacity`` transitions, kept as NumPy arrays; when full, each
    push overwrites the oldest transition.

    Args:
        capacity: the most transitions kept.
        obs_shape: shape of one observation, e.g. (4,).
        obs_dtype: dtype the observations are stored in (float32).
    """

    def __init__(self, capacity: int, obs_shape: tuple, obs_dtype=numpy.float32) -> None:
        if capacity < 1:
            raise ValueError(f"ReplayBuffer: capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.obs_shape = tuple(obs_shape)
        self.obs = numpy.zeros((self.capacity, *self.obs_shape), obs_dtype)
        self.next_obs = numpy.zeros_like(self.obs)
        self.actions = numpy.zeros(self.capacity, numpy.int64)
        self.rewards = numpy.zeros(self.capacity, numpy.float32)
        self.terminated = numpy.zeros(self.capacity, numpy.float32)
        self._next = 0  # where the next push writes
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, obs, action: int, reward: float, next_obs, terminated: bool) -> None:
        """Store one transition (s, a, r, s', terminated); pass ``terminated``, not
        ``terminated or truncated``: a truncated episode still bootstraps from s'."""
        if numpy.shape(obs) != self.obs_shape or numpy.shape(next_obs) != self.obs_shape:
            raise ValueError(f"ReplayBuffer.push: observations must have shape {self.obs_shape},"
                             f" got {numpy.shape(obs)} and {numpy.shape(next_obs)}")
        i = self._next
        self.obs[i], self.next_obs[i] = obs, next_obs
        self.actions[i], self.rewards[i], self.terminated[i] = action, reward, terminated
        self._next = (i + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def sample(self, batch_size: int, generator: Generator | None = None) -> Transition:
        """``batch_size`` distinct stored transitions, drawn uniformly.

        Args:
            batch_size: B, at most ``len(self)``.
            generator: a ``nabla.Generator`` (the global one when None).

        Returns:
            A ``Transition`` of tensors (see its shapes and dtypes).
        """
        if not 0 < batch_size <= self._size:
            raise ValueError(f"ReplayBuffer.sample: asked for {batch_size} transitions, but "
                             f"{self._size} are stored")
        idx = numpy_generator(generator).choice(self._size, batch_size, replace=False)
        return Transition(*(from_numpy(a[idx]) for a in (
            self.obs, self.actions, self.rewards, self.next_obs, self.terminated)))


def td_targets(batch: Transition, target_net: nn.Module, gamma: float = 0.99,
               online_net: nn.Module | None = None) -> Tensor:
    """The TD target y = r + γ (1 - terminated) max_a' Q_θ⁻(s', a'), without gradient.

    With ``online_net`` (Double DQN), a' is chosen by the online network and valued by the
    target network: y = r + γ (1 - terminated) Q_θ⁻(s', argmax_a' Q_θ(s', a')).

    Args:
        batch: a ``Transition`` of B transitions.
        target_net: Q_θ⁻, (B, *obs_shape) -> (B, A).
        gamma: the discount γ.
        online_net: Q_θ for Double DQN; None for the original DQN target.

    Returns:
        (B,) float32.
    """
    with no_grad():
        next_q = target_net(batch.next_obs)
        if online_net is None:
            best = next_q.max(1).values
        else:
            best = next_q.gather(1, online_net(batch.next_obs).argmax(1, keepdim=True)).squeeze(1)
        return batch.rewards + gamma * (1.0 - batch.terminated) * best


def dqn_loss(online_net: nn.Module, target_net: nn.Module, batch: Transition,
             gamma: float = 0.99, double: bool = False, beta: float = 1.0) -> Tensor:
    """The Huber loss between Q_θ(s, a) and the TD target, averaged over the batch.

    Args:
        online_net: Q_θ, the network being trained.
        target_net: Q_θ⁻, the network the targets come from.
        batch: a ``Transition`` of B transitions.
        gamma: the discount γ.
        double: Double DQN targets (see ``td_targets``).
        beta: where the Huber loss turns from quadratic to linear (``F.smooth_l1_loss``).

    Returns:
        0-d tensor; its gradient reaches ``online_net`` only.
    """
    q = online_net(batch.obs).gather(1, batch.actions.unsqueeze(1)).squeeze(1)
    y = td_targets(batch, target_net, gamma, online_net if double else None)
    return F.smooth_l1_loss(q, y, beta=beta)


def linear_epsilon(step: int, start: float = 1.0, end: float = 0.05,
                   decay_steps: int = 10_000) -> float:
    """ε for ε-greedy: from ``start`` down to ``end`` in a straight line over ``decay_steps``
    steps, then ``end``."""
    if decay_steps <= 0:
        return end
    return start + (end - start) * min(step / decay_steps, 1.0)


def hard_update_(target: nn.Module, source: nn.Module) -> None:
    """θ⁻ ← θ: copy every parameter and buffer of ``source`` into ``target``, in place."""
    with no_grad():
        for t, s in zip(target.state_dict(keep_vars=True).values(),
                        source.state_dict(keep_vars=True).values()):
            t.copy_(s)


def soft_update_(target: nn.Module, source: nn.Module, tau: float) -> None:
    """θ⁻ ← τ θ + (1 - τ) θ⁻ (Polyak averaging) for every parameter, in place; τ = 1 copies."""
    if not 0.0 < tau <= 1.0:
        raise ValueError(f"soft_update_: tau must be in (0, 1], got {tau}")
    with no_grad():
        for t, s in zip(target.parameters(), source.parameters()):
            t.lerp_(s, tau)


def greedy_action(q_net: nn.Module, obs) -> int:
    """argmax_a Q(obs, a) for one observation ``obs`` (*obs_shape), without gradient."""
    with no_grad():
        q = q_net(tensor(numpy.asarray(obs, numpy.float32)[None]))
    return int(q.argmax(1).item())


class DQNAgent:
    """The online Q-network, its target copy, the optimizer and DQN's update rule.

    Args:
        q_net: the online network Q_θ, (N, *obs_shape) -> (N, A); the target starts as a copy.
        lr: Adam's learning rate (when no ``optimizer`` is given).
        gamma: the discount γ.
        double: use Double DQN targets.
        target_update: sync the target every this many updates.
        tau: 1.0 copies θ into θ⁻ at a sync (hard); below 1, θ⁻ ← τ θ + (1 - τ) θ⁻ (soft).
        max_grad_norm: clip the gradient's total norm to this (None: no clipping).
        n_actions: A; read from ``q_net.n_actions`` when None.
        optimizer: an optimizer over ``q_net``'s parameters (default: Adam).
    """

    def __init__(self, q_net: nn.Module, lr: float = 1e-3, gamma: float = 0.99,
                 double: bool = False, target_update: int = 500, tau: float = 1.0,
                 max_grad_norm: float | None = 10.0, n_actions: int | None = None,
                 optimizer=None) -> None:
        self.n_actions = n_actions or getattr(q_net, "n_actions", None)
        if self.n_actions is None:
            raise ValueError("DQNAgent: pass n_actions (q_net has no n_actions attribute)")
        if target_update < 1 or not 0.0 < tau <= 1.0:
            raise ValueError(f"DQNAgent: need target_update >= 1 and 0 < tau <= 1, got "
                             f"{target_update} and {tau}")
        self.q_net = q_net
        self.target_net = copy.deepcopy(q_net).requires_grad_(False)
        self.optimizer = optimizer or Adam(q_net.parameters(), lr=lr)
        self.gamma, self.double, self.tau = gamma, double, tau
        self.target_update, self.max_grad_norm = target_update, max_grad_norm
        self.updates = 0

    def act(self, obs, epsilon: float = 0.0, generator: Generator | None = None) -> int:
        """ε-greedy: a uniformly random action with probability ε, else argmax_a Q(obs, a)."""
        rng = numpy_generator(generator)
        if epsilon > 0 and rng.random() < epsilon:
            return int(rng.integers(self.n_actions))
        return greedy_action(self.q_net, obs)

    def update(self, batch: Transition) -> float:
        """One gradient step on ``dqn_loss``, then the target sync when it is due; returns the
        loss."""
        loss = dqn_loss(self.q_net, self.target_net, batch, self.gamma, self.double)
        self.optimizer.zero_grad()
        loss.backward()
        if self.max_grad_norm is not None:
            clip_grad_norm_(self.q_net.parameters(), self.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        if self.updates % self.target_update == 0:
            if self.tau == 1.0:
                hard_update_(self.target_net, self.q_net)
            else:
                soft_update_(self.target_net, self.q_net, self.tau)
        return loss.item()


def train_dqn(env, agent: DQNAgent, total_steps: int = 50_000, *, buffer_size: int = 50_000,
              batch_size: int = 64, learning_starts: int = 1_000, train_every: int = 1,
              gradient_steps: int = 1, epsilon: tuple = (1.0, 0.05, 10_000), seed: int = 0,
              log_every: int = 0, callback=None) -> dict:
    """Interact with ``env`` for ``total_steps`` steps, ε-greedy, storing every transition and
    updating the agent on replayed mini-batches.

    Args:
        env: a gymnasium-style environment with discrete actions and array observations.
        agent: the ``DQNAgent`` to train.
        total_steps: environment steps in all.
        buffer_size: replay capacity.
        batch_size: transitions per update.
        learning_starts: steps of pure collection before the first update (>= batch_size).
        train_every: train every this many steps...
        gradient_steps: ...with this many updates (each on a fresh mini-batch).
        epsilon: (start, end, decay_steps) of ``linear_epsilon``.
        seed: seeds the environment's first reset and the sampling/exploration generator.
        log_every: print a line every this many episodes (0: silent).
        callback: called as ``callback(history)`` after each finished episode; a true return
            stops training (e.g. once a greedy evaluation solves the task).

    Returns:
        A dict of lists: per finished episode 'returns', 'lengths', 'epsilons' (ε at its end)
        and 'steps' (the global step at its end); per update 'losses'.
    """
    if learning_starts < batch_size:
        raise ValueError(f"train_dqn: learning_starts ({learning_starts}) must be >= batch_size "
                         f"({batch_size})")
    generator = Generator(seed)
    history = {"returns": [], "lengths": [], "epsilons": [], "steps": [], "losses": []}
    obs, _ = env.reset(seed=seed)
    buffer = ReplayBuffer(buffer_size, numpy.shape(obs))
    episode_return, length = 0.0, 0
    for step in range(total_steps):
        eps = linear_epsilon(step, *epsilon)
        action = agent.act(obs, eps, generator)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.push(obs, action, reward, next_obs, terminated)  # truncated: s' still counts
        obs, episode_return, length = next_obs, episode_return + float(reward), length + 1
        if step >= learning_starts and step % train_every == 0:
            for _ in range(gradient_steps):
                history["losses"].append(agent.update(buffer.sample(batch_size, generator)))
        if terminated or truncated:
            if _episode_done(history, (episode_return, length, eps, step + 1), log_every,
                             callback):
                break
            obs, _ = env.reset()
            episode_return, length = 0.0, 0
    return history


def _episode_done(history: dict, record: tuple, log_every: int, callback) -> bool:
    """Record a finished episode's (return, length, epsilon, global step), log every
    ``log_every`` episodes; True when the callback asks to stop training."""
    for key, value in zip(("returns", "lengths", "epsilons", "steps"), record, strict=True):
        history[key].append(value)
    if log_every and len(history["returns"]) % log_every == 0:
        _log(history)
    return callback is not None and bool(callback(history))


def _log(history: dict, window: int = 20) -> None:
    recent, eps = history["returns"][-window:], history["epsilons"][-1]
    print(f"episode {len(history['returns']):4d}  step {history['steps'][-1]:6d}  mean return "
          f"(last {len(recent)}) {sum(recent) / len(recent):6.1f}  eps {eps:.3f}")


def evaluate_greedy(env, q_net: nn.Module, episodes: int = 20, seed: int = 0) -> list:
    """Returns of ``episodes`` episodes played greedily (ε = 0) by ``q_net``; the first reset is
    seeded with ``seed``, the later ones continue the environment's random stream (``env`` must
    end its episodes: a time limit, as gymnasium.make adds)."""
    returns = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed) if episode == 0 else env.reset()
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(greedy_action(q_net, obs))
            total, done = total + float(reward), terminated or truncated
        returns.append(total)
    return returns


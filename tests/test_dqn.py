"""DQN: the replay buffer's ring semantics, the TD target and Huber loss against the same
computation in PyTorch (values and gradients), terminated vs truncated, Double DQN, target-network
syncs, the ε schedule, and short end-to-end runs on tiny deterministic environments written here
(so the learning logic is tested without gymnasium); the CartPole example's fast mode when
gymnasium is installed."""

import importlib.util
import pathlib
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from conftest import assert_close

import nabla
from nabla.models.dqn import (
    DQNAgent,
    QNetwork,
    ReplayBuffer,
    Transition,
    dqn_loss,
    evaluate_greedy,
    greedy_action,
    hard_update_,
    linear_epsilon,
    soft_update_,
    td_targets,
    train_dqn,
)

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def filled(capacity: int, n: int) -> ReplayBuffer:
    """A buffer of (2,) observations after n pushes; transition i has obs [i, -i], action i % 3,
    reward i, next_obs [i + 1, -i - 1], terminated on every 4th."""
    buffer = ReplayBuffer(capacity, (2,))
    for i in range(n):
        buffer.push(np.array([i, -i]), i % 3, float(i), np.array([i + 1, -i - 1]), i % 4 == 3)
    return buffer


def random_batch(rng, n: int = 8, obs_dim: int = 4, n_actions: int = 3) -> Transition:
    return Transition(nabla.tensor(rng.normal(size=(n, obs_dim)).astype(np.float32)),
                      nabla.tensor(rng.integers(0, n_actions, n)),
                      nabla.tensor(rng.normal(size=n).astype(np.float32)),
                      nabla.tensor(rng.normal(size=(n, obs_dim)).astype(np.float32)),
                      nabla.tensor((np.arange(n) % 3 == 0).astype(np.float32)))


def arr(t: nabla.Tensor) -> np.ndarray:
    return t.detach().numpy()


def torch_twin(net: QNetwork) -> torch.nn.Sequential:
    """The same MLP in PyTorch, with net's weights copied in."""
    layers = []
    for m in net.net:
        layers.append(torch.nn.Linear(m.in_features, m.out_features)
                      if isinstance(m, nabla.nn.Linear) else torch.nn.ReLU())
    twin = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for t, n in zip(twin.parameters(), net.parameters()):
            t.copy_(torch.from_numpy(n.detach().numpy().copy()))
    return twin


# -- replay buffer -------------------------------------------------------------------------------
def test_replay_buffer_is_a_ring_that_overwrites_the_oldest():
    buffer = filled(3, 5)
    assert len(buffer) == 3 and buffer.capacity == 3
    # pushes 3 and 4 overwrote slots 0 and 1; slot 2 still holds push 2
    np.testing.assert_array_equal(buffer.obs[:, 0], [3, 4, 2])
    np.testing.assert_array_equal(buffer.next_obs[:, 0], [4, 5, 3])
    np.testing.assert_array_equal(buffer.rewards, [3, 4, 2])
    np.testing.assert_array_equal(buffer.terminated, [1, 0, 0])
    assert len(filled(10, 4)) == 4


def test_replay_buffer_sample_shapes_dtypes_and_consistency():
    batch = filled(100, 50).sample(16, nabla.Generator(0))
    assert isinstance(batch, Transition)
    assert batch.obs.shape == (16, 2) and batch.next_obs.shape == (16, 2)
    assert batch.actions.shape == batch.rewards.shape == batch.terminated.shape == (16,)
    assert batch.obs.dtype == batch.rewards.dtype == batch.terminated.dtype == nabla.float32
    assert batch.actions.dtype == nabla.int64
    i = batch.rewards.numpy().astype(int)  # reward i identifies transition i: rows stay together
    assert len(set(i.tolist())) == 16  # distinct transitions
    np.testing.assert_array_equal(batch.obs.numpy()[:, 0], i)
    np.testing.assert_array_equal(batch.next_obs.numpy()[:, 0], i + 1)
    np.testing.assert_array_equal(batch.actions.numpy(), i % 3)
    np.testing.assert_array_equal(batch.terminated.numpy(), i % 4 == 3)


def test_replay_buffer_sampling_is_reproducible_with_a_seeded_generator():
    buffer = filled(100, 60)
    a, b = (buffer.sample(10, nabla.Generator(7)) for _ in range(2))
    c = buffer.sample(10, nabla.Generator(8))
    np.testing.assert_array_equal(a.rewards.numpy(), b.rewards.numpy())
    assert not np.array_equal(a.rewards.numpy(), c.rewards.numpy())


def test_replay_buffer_errors():
    with pytest.raises(ValueError, match="asked for 5 transitions, but 4 are stored"):
        filled(10, 4).sample(5)
    with pytest.raises(ValueError, match="capacity must be >= 1"):
        ReplayBuffer(0, (2,))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        ReplayBuffer(4, (2,)).push(np.zeros(3), 0, 0.0, np.zeros(3), False)


# -- TD target and loss ----------------------------------------------------------------------------
@pytest.mark.parametrize("double", [False, True])
def test_dqn_loss_and_gradients_match_pytorch(rng, double):
    online, target = QNetwork(4, 3, hidden=(16, 8)), QNetwork(4, 3, hidden=(16, 8))
    batch = random_batch(rng, n=12)
    batch = batch._replace(rewards=batch.rewards * 3)  # some TD errors beyond 1: Huber's linear arm
    loss = dqn_loss(online, target, batch, gamma=0.9, double=double)
    loss.backward()

    t_online, t_target = torch_twin(online), torch_twin(target)
    obs, actions, rewards, next_obs, terminated = (torch.from_numpy(t.numpy()) for t in batch)
    q = t_online(obs).gather(1, actions[:, None]).squeeze(1)
    with torch.no_grad():
        next_q = t_target(next_obs)
        if double:
            best = next_q.gather(1, t_online(next_obs).argmax(1, keepdim=True)).squeeze(1)
        else:
            best = next_q.max(1).values
        y = rewards + 0.9 * (1 - terminated) * best
    t_loss = TF.smooth_l1_loss(q, y)
    t_loss.backward()
    assert_close(loss, t_loss.detach(), what="loss")
    assert (abs(q.detach() - y) > 1).any()  # both arms of the Huber loss are exercised
    assert_close(td_targets(batch, target, 0.9, online if double else None), y, what="targets")
    for (name, p), t in zip(online.named_parameters(), t_online.parameters()):
        assert_close(p.grad, t.grad, what=name)
    assert all(p.grad is None for p in target.parameters())  # the target is a constant


def test_td_target_does_not_bootstrap_on_termination(rng):
    target = QNetwork(4, 3, hidden=(8,))
    batch = random_batch(rng, n=6)
    with nabla.no_grad():
        best = target(batch.next_obs).numpy().max(1)
    done = batch._replace(terminated=nabla.ones(6))
    going_on = batch._replace(terminated=nabla.zeros(6))  # or truncated: the same target
    r = batch.rewards.numpy()
    np.testing.assert_allclose(td_targets(done, target, 0.5).numpy(), r)
    np.testing.assert_allclose(td_targets(going_on, target, 0.5).numpy(), r + 0.5 * best,
                               rtol=1e-6)


def test_double_dqn_target_values_the_online_choice_with_the_target_network():
    online, target = QNetwork(1, 2, hidden=()), QNetwork(1, 2, hidden=())
    with nabla.no_grad():  # online prefers action 1, target values action 0 at 5 and action 1 at 2
        online.net[0].weight.copy_(nabla.zeros(2, 1))
        online.net[0].bias.copy_(nabla.tensor([0.0, 1.0]))
        target.net[0].weight.copy_(nabla.zeros(2, 1))
        target.net[0].bias.copy_(nabla.tensor([5.0, 2.0]))
    batch = Transition(nabla.zeros(1, 1), nabla.tensor([0]), nabla.tensor([1.0]),
                       nabla.zeros(1, 1), nabla.tensor([0.0]))
    assert td_targets(batch, target, 0.5).item() == 1 + 0.5 * 5  # max over the target's values
    assert td_targets(batch, target, 0.5, online).item() == 1 + 0.5 * 2  # online picks 1


# -- target network, ε, acting -----------------------------------------------------------------
def test_hard_update_copies_and_stays_independent():
    source, target = QNetwork(4, 2, (8,)), QNetwork(4, 2, (8,))
    hard_update_(target, source)
    for t, s in zip(target.parameters(), source.parameters()):
        np.testing.assert_array_equal(arr(t), arr(s))
    with nabla.no_grad():
        next(source.parameters()).add_(1.0)
    assert not np.array_equal(arr(next(target.parameters())), arr(next(source.parameters())))


def test_soft_update_is_polyak_averaging():
    source, target = QNetwork(4, 2, (8,)), QNetwork(4, 2, (8,))
    before = [arr(p).copy() for p in target.parameters()]
    soft_update_(target, source, 0.1)
    for t, s, b in zip(target.parameters(), source.parameters(), before):
        np.testing.assert_allclose(arr(t), 0.1 * arr(s) + 0.9 * b, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="tau must be in"):
        soft_update_(target, source, 0.0)


@pytest.mark.parametrize("tau", [1.0, 0.5])
def test_agent_syncs_the_target_every_target_update_steps(rng, tau):
    agent = DQNAgent(QNetwork(4, 3, (8,)), lr=0.01, target_update=3, tau=tau)
    start = [arr(p).copy() for p in agent.target_net.parameters()]
    batch = random_batch(rng)
    for _ in range(2):
        agent.update(batch)
    for t, s in zip(agent.target_net.parameters(), start):
        np.testing.assert_array_equal(arr(t), s)  # frozen between syncs
    assert not any(p.requires_grad for p in agent.target_net.parameters())
    agent.update(batch)
    for t, o, s in zip(agent.target_net.parameters(), agent.q_net.parameters(), start):
        np.testing.assert_allclose(arr(t), tau * arr(o) + (1 - tau) * s, rtol=1e-6, atol=1e-7)


def test_linear_epsilon_schedule():
    assert linear_epsilon(0) == 1.0
    assert linear_epsilon(5_000, 1.0, 0.1, 10_000) == pytest.approx(0.55)
    assert linear_epsilon(10_000, 1.0, 0.1, 10_000) == pytest.approx(0.1)
    assert linear_epsilon(10**6, 1.0, 0.1, 10_000) == pytest.approx(0.1)
    assert linear_epsilon(3, 0.5, 0.2, 0) == 0.2


def test_epsilon_greedy_acting():
    agent = DQNAgent(QNetwork(2, 3, (4,)))
    obs = np.array([0.5, -1.0])
    with nabla.no_grad():
        best = int(agent.q_net(nabla.tensor(obs[None].astype(np.float32))).numpy().argmax())
    assert {agent.act(obs, 0.0) for _ in range(20)} == {best} == {greedy_action(agent.q_net, obs)}
    g = nabla.Generator(0)
    assert {agent.act(obs, 1.0, g) for _ in range(60)} == {0, 1, 2}
    with pytest.raises(ValueError, match="pass n_actions"):
        DQNAgent(nabla.nn.Linear(2, 3))


# -- end to end, on toy environments --------------------------------------------------------------
class MatchSign:
    """Each step shows s = +1 or -1 (alternating); action 1 pays 1 when s > 0, action 0 pays 1 when
    s < 0, the other pays 0. Episodes are cut (truncated) after 10 steps: the best return is 10."""

    def reset(self, seed=None):
        self.t = 0
        return self._obs(), {}

    def _obs(self):
        return np.array([1.0 if self.t % 2 == 0 else -1.0], np.float32)

    def step(self, action):
        reward = float(action == int(self._obs()[0] > 0))
        self.t += 1
        return self._obs(), reward, False, self.t >= 10, {}


class Loop:
    """One state, one action, reward 1 per step; every step ends the episode, as ``terminated``
    or as ``truncated``."""

    def __init__(self, truncate: bool) -> None:
        self.truncate = truncate

    def reset(self, seed=None):
        return np.ones(1, np.float32), {}

    def step(self, action):
        return np.ones(1, np.float32), 1.0, not self.truncate, self.truncate, {}


def test_train_dqn_learns_the_obviously_optimal_actions():
    nabla.manual_seed(0)
    agent = DQNAgent(QNetwork(1, 2, (16,)), lr=1e-2, gamma=0.5, target_update=20, double=True)
    history = train_dqn(MatchSign(), agent, 600, buffer_size=500, batch_size=32,
                        learning_starts=100, epsilon=(1.0, 0.05, 300), seed=0)
    assert len(history["returns"]) == 60 and history["lengths"] == [10] * 60
    assert history["epsilons"][0] > history["epsilons"][-1] == pytest.approx(0.05)
    assert len(history["losses"]) == 500
    assert np.mean(history["returns"][:5]) < 8  # ε = 1: about half right
    assert evaluate_greedy(MatchSign(), agent.q_net, episodes=3) == [10.0] * 3


@pytest.mark.parametrize("truncate", [False, True])
def test_a_time_out_bootstraps_and_a_termination_does_not(truncate):
    # Q = 1 when each step terminates; Q = 1 / (1 - γ) = 4 when it is only a time-out
    agent = DQNAgent(QNetwork(1, 1, (8,)), lr=2e-2, gamma=0.75, target_update=10)
    train_dqn(Loop(truncate), agent, 400, buffer_size=100, batch_size=16, learning_starts=16)
    with nabla.no_grad():
        q = agent.q_net(nabla.ones(1, 1)).item()
    assert q == pytest.approx(4.0 if truncate else 1.0, abs=0.3)


def test_train_dqn_checks_and_stops_on_callback():
    agent = DQNAgent(QNetwork(1, 2, (4,)))
    with pytest.raises(ValueError, match="learning_starts"):
        train_dqn(MatchSign(), agent, 10, batch_size=32, learning_starts=8)
    history = train_dqn(MatchSign(), agent, 1000, batch_size=8, learning_starts=16,
                        train_every=4, gradient_steps=3, callback=lambda h: len(h["returns"]) == 3)
    assert len(history["returns"]) == 3 and history["steps"][-1] == 30
    assert len(history["losses"]) == agent.updates == 4 * 3  # at steps 16, 20, 24, 28 (of 0-29)



def test_cartpole_example_fast_mode(tmp_path):
    pytest.importorskip("gymnasium")
    spec = importlib.util.spec_from_file_location("dqn_cartpole", EXAMPLES / "dqn_cartpole.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["dqn_cartpole"] = module
    spec.loader.exec_module(module)
    assert module.__doc__.startswith("DQN") and "Topics" in module.__doc__[:1500]
    result = module.main(fast=True, out=str(tmp_path))
    assert result["episodes"] == len(result["returns"]) > 5
    assert 0 < result["eval_mean_return"] <= 500 and result["seconds"] < 30
    if importlib.util.find_spec("matplotlib"):
        assert result["files"] == [str(tmp_path / "dqn_returns.png")]
        assert (tmp_path / "dqn_returns.png").stat().st_size > 0

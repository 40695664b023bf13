"""DQN on CartPole: a deep Q-network learns to balance a pole from the reward alone (Mnih et al.,
2013; the idea is taught in nabla/models/dqn.py's docstring).

Topics: reinforcement learning (agent, environment, reward, discounted return), Q-learning and the
TD target r + γ max_a' Q(s', a'), experience replay, the target network (synced every 128
updates), ε-greedy exploration with a linear schedule, the Huber loss and gradient clipping,
Double DQN, terminated vs truncated episodes, and evaluating the greedy policy apart from
training.

CartPole-v1 (gymnasium, no download): the state is (cart position, cart velocity, pole angle, pole
angular velocity), two actions push the cart left or right, +1 per step while the pole stays up,
and episodes are cut (truncated) at 500 steps. A random policy lasts about 22 steps; "solved" is
a mean return of at least 195 (v0's threshold; 475 in v1's terms). DQN's greedy policy swings
during training (one block of updates can undo a good policy: run to 50,000 steps without
stopping, the last policy scored 500, 28 and 34 for seeds 0, 1, 2), so the greedy policy
is checked on 10 episodes every 5 episodes, the best weights are kept, and training stops once
they balance the pole for all 500 steps of every checked episode (as SB3's EvalCallback
does). The final score comes from 20 episodes the checks never saw.

Measured (2-core CPU shared with other jobs; BLAS held to one thread): seed 0 stops after 250
episodes and 18,133 steps, 6 s of training, and its greedy policy scores 500 on all 20 new
episodes. Seeds 0-9: every run stops with a perfect check after 2,458 to 37,144 steps (1 to 11 s);
on the 20 new episodes nine score 500.0 and one (seed 6) 440.4 (its worst episode 158). The exact
figures depend on the BLAS's summation order. The fast mode (600 steps, a 32-unit network)
takes about a second and learns little.
Run: python examples/dqn_cartpole.py [--fast] [--out runs/dqn_cartpole]
"""

import argparse
import contextlib
import copy
import os
import time

import numpy

import nabla
from nabla.models.dqn import DQNAgent, QNetwork, evaluate_greedy, train_dqn

# Every 256 steps, 128 updates against a target synced before each block: a regression onto a
# fixed target, then a new target (the hyper-parameters of the rl-baselines3-zoo for CartPole,
# with a smaller network and Double DQN)
CONFIG = dict(total_steps=50_000, hidden=(64, 64), lr=2.3e-3, gamma=0.99, double=True,
              batch_size=64, buffer_size=50_000, learning_starts=1_000, train_every=256,
              gradient_steps=128, target_update=128, epsilon=(1.0, 0.04, 8_000), check_every=5,
              check_episodes=10)
FAST = dict(CONFIG, total_steps=600, hidden=(32,), learning_starts=200, epsilon=(1.0, 0.1, 400),
            check_every=5, check_episodes=1)


def make_env():
    try:
        import gymnasium
    except ImportError as error:
        raise ImportError("dqn_cartpole needs gymnasium: pip install 'nabla[rl]'") from error
    return gymnasium.make("CartPole-v1")


def one_blas_thread():
    """DQN multiplies small matrices (a batch of 64 by a few hundred weights): a second BLAS
    thread costs more to wake than it saves. With 128-unit layers on a busy 2-core machine,
    OpenBLAS's spinning threads made each update 5 to 40 times slower (cProfile: all the time
    inside the Linear layers' matmuls); the 64-unit products here stay on one thread anyway.
    threadpoolctl (nabla[speed]) holds BLAS to one thread for the run and restores it after."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def train(cfg: dict, seed: int = 0, log_every: int = 20):
    """Trains a Double DQN agent on CartPole-v1; returns the agent (its network set to the best
    checked weights), the training history and the greedy checks [(step, mean return)]."""
    nabla.manual_seed(seed)
    agent = DQNAgent(QNetwork(4, 2, cfg["hidden"]), lr=cfg["lr"], gamma=cfg["gamma"],
                     double=cfg["double"], target_update=cfg["target_update"], max_grad_norm=10.0)
    check_env, checks, best = make_env(), [], {"score": -1.0, "state": None}

    def check(history) -> bool:
        if len(history["returns"]) % cfg["check_every"]:
            return False
        score = float(numpy.mean(evaluate_greedy(check_env, agent.q_net, cfg["check_episodes"],
                                                 seed=seed + 10_000)))
        checks.append((history["steps"][-1], score))
        if score > best["score"]:
            best.update(score=score, state=copy.deepcopy(agent.q_net.state_dict()))
        return score >= 500.0  # every checked episode balanced to the time limit

    history = train_dqn(make_env(), agent, cfg["total_steps"], buffer_size=cfg["buffer_size"],
                        batch_size=cfg["batch_size"], learning_starts=cfg["learning_starts"],
                        train_every=cfg["train_every"], gradient_steps=cfg["gradient_steps"],
                        epsilon=cfg["epsilon"], seed=seed, log_every=log_every, callback=check)
    if best["state"] is not None:
        agent.q_net.load_state_dict(best["state"])
    return agent, history, checks


def plot(history: dict, checks: list, path: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    returns = numpy.asarray(history["returns"])
    mean20 = [returns[max(0, i - 19): i + 1].mean() for i in range(len(returns))]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(history["steps"], returns, lw=0.5, alpha=0.5, label="episode return (ε-greedy)")
    ax.plot(history["steps"], mean20, lw=1.5, label="mean of the last 20")
    if checks:
        ax.plot(*zip(*checks), "o", ms=3, label="greedy check")
    ax.axhline(195, ls="--", c="k", lw=0.8, label="195 (v0's 'solved')")
    ax.set(xlabel="environment step", ylabel="return", ylim=(0, 520), title="DQN on CartPole-v1")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def main(fast: bool = False, out: str = "runs/dqn_cartpole", seed: int = 0,
         plots: bool = True) -> dict:
    cfg = FAST if fast else CONFIG
    start = time.perf_counter()
    with one_blas_thread():
        agent, history, checks = train(cfg, seed, log_every=0 if fast else 20)
        seconds = time.perf_counter() - start
        final = evaluate_greedy(make_env(), agent.q_net, 20, seed=seed + 20_000)
    result = dict(episodes=len(history["returns"]), steps=history["steps"][-1] if
                  history["steps"] else 0, seconds=seconds, returns=history["returns"],
                  best_check=max((s for _, s in checks), default=None),
                  eval_mean_return=float(numpy.mean(final)), eval_min_return=min(final),
                  files=[])
    print(f"{result['episodes']} episodes, {result['steps']} steps in {seconds:.0f} s; greedy "
          f"policy over 20 new episodes: mean return {result['eval_mean_return']:.1f} "
          f"(min {result['eval_min_return']:.0f}, max 500)")
    if plots:
        os.makedirs(out, exist_ok=True)
        try:
            result["files"].append(plot(history, checks, os.path.join(out, "dqn_returns.png")))
            print("wrote", result["files"][-1])
        except ImportError:
            pass
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a few hundred steps (smoke test)")
    parser.add_argument("--out", default="runs/dqn_cartpole")
    parser.add_argument("--seed", type=int, default=0)
    a = parser.parse_args()
    main(a.fast, a.out, a.seed)

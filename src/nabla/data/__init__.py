"""Small data files shipped with nabla.

``fables.txt`` (about 48 KB) is the corpus of the character-level language model. It is not a
book: ``generate_fables()`` below writes it from a small grammar of fable-like sentences with a
fixed seed, so it is free of copyright, reproducible, and has structure a recurrent model can
learn (word spelling, agreement of "a"/"an", phrases, punctuation, a recurring moral).
Regenerate with ``python -m nabla.data`` (the test suite checks the file matches).
"""

import random
from importlib import resources

__all__ = ["load_text", "generate_fables"]

_ANIMALS = ["fox", "crow", "wolf", "lamb", "hare", "tortoise", "lion", "mouse", "ant",
            "grasshopper", "owl", "goat", "dog", "cat", "frog", "ox", "eagle", "bee", "horse",
            "swan"]
_ADJECTIVES = ["old", "young", "clever", "proud", "hungry", "little", "wise", "lazy", "brave",
               "quiet", "greedy", "kind", "tired", "foolish", "gentle"]
_PLACES = ["the river", "the old oak", "the hill", "the farm", "the well", "the meadow",
           "the forest", "the village", "the stone wall", "the pond"]
_VERBS = ["saw", "met", "followed", "helped", "teased", "thanked", "chased", "called", "watched",
          "fooled", "warned", "carried"]
_INTRANSITIVE = ["slept", "sang", "waited", "ran away", "laughed", "worked all day", "wept",
                 "hid", "boasted", "listened"]
_SPEECH = ["I am faster than you", "share your bread with me", "the winter is coming",
           "you cannot catch me", "slow and steady wins", "help me, friend", "look before you leap",
           "the grapes are sour"]
_MORALS = ["Slow and steady wins the race.", "A friend in need is a friend indeed.",
           "Look before you leap.", "Pride goes before a fall.", "Little by little does the trick.",
           "Do not count your chickens before they hatch.", "Kindness is never wasted."]


def _noun_phrase(rng: random.Random, definite: bool | None = None) -> str:
    adjective = rng.choice(_ADJECTIVES) + " " if rng.random() < 0.6 else ""
    animal = rng.choice(_ANIMALS)
    if definite is None:
        definite = rng.random() < 0.6
    if definite:
        return "the " + adjective + animal
    word = adjective + animal
    return ("an " if word[0] in "aeiou" else "a ") + word


def _clause(rng: random.Random) -> str:
    subject = _noun_phrase(rng)
    kind = rng.random()
    if kind < 0.45:
        rest = rng.choice(_VERBS) + " " + _noun_phrase(rng)
    elif kind < 0.75:
        rest = rng.choice(_INTRANSITIVE)
    else:
        speech = rng.choice(_SPEECH)
        return f'{subject} said, "{speech[0].upper() + speech[1:]}."'
    if rng.random() < 0.5:
        rest += " near " + rng.choice(_PLACES)
    return subject + " " + rest


def _sentence(rng: random.Random) -> str:
    form = rng.random()
    first = _clause(rng)
    if first.endswith('."') or form < 0.5:
        text = first if first.endswith('."') else first + "."
    elif form < 0.8:
        text = first + ", " + rng.choice(["and", "but", "so"]) + " " + _clause(rng)
        text = text if text.endswith('."') else text + "."
    else:
        text = "When " + first + ", " + _clause(rng)
        text = text if text.endswith('."') else text + "."
    return text[0].upper() + text[1:]


def generate_fables(n_fables: int = 160, seed: int = 1) -> str:
    """The fable corpus: ``n_fables`` paragraphs of 3-7 sentences, each ending with a moral."""
    if not isinstance(n_fables, int) or n_fables < 1:
        raise ValueError(f"generate_fables: n_fables must be a positive integer, got "
                         f"{n_fables!r}")
    rng = random.Random(seed)
    fables = []
    for k in range(n_fables):
        title = f"Fable {k + 1}. The {rng.choice(_ADJECTIVES).capitalize()} " \
                f"{rng.choice(_ANIMALS).capitalize()}."
        body = " ".join(_sentence(rng) for _ in range(rng.randint(3, 7)))
        fables.append(f"{title}\n{body} Moral: {rng.choice(_MORALS)}\n")
    return "\n".join(fables)


def load_text(name: str = "fables.txt") -> str:
    """The text of a data file shipped in this package."""
    folder = resources.files(__name__)
    shipped = sorted(f.name for f in folder.iterdir() if f.name.endswith(".txt"))
    if name not in shipped:
        raise FileNotFoundError(f"load_text: nabla ships no data file {name!r}; the shipped "
                                f"files are {', '.join(shipped)}")
    return folder.joinpath(name).read_text(encoding="utf-8")

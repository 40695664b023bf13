"""Regenerate the shipped corpus: python -m nabla.data"""

from pathlib import Path

from nabla.data import generate_fables

if __name__ == "__main__":
    path = Path(__file__).with_name("fables.txt")
    path.write_text(generate_fables(), encoding="utf-8")
    print(f"wrote {path} ({path.stat().st_size} bytes)")

"""The end of every make_corpus_*.py: its seeds written where scripts/fuzz.sh looks for them."""
import os


def write_seeds(out, target, seeds):
    """Writes `seeds` (file name -> bytes) into OUT/TARGET/ and says how many."""
    folder = os.path.join(out, target)
    os.makedirs(folder, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {folder}")

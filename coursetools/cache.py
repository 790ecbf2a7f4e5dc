"""`run.py seed-cache FOLDER`: copy the course's dataset files into the Keras cache."""


def main(folder):
    from lstmkit import datasets

    copied = datasets.seed_cache(folder)
    print(f"Copied {len(copied)} files into {datasets.cache_dir()}: {', '.join(copied)}")
    return 0

"""The course tooling behind `run.py`: one module per job.

    cli             the command line: parsing, checking (before any set-up), dispatch
    environment     .venv with the pinned stack, the three Jupyter kernels, mermaid.js
    notebooks       the lessons, their worked solutions, titles and SEED lines
    execute         one notebook, or a Batch of them, executed into copies with figures
    course          `run.py course`: every lesson and its solutions per backend and seed
    results         what a course run recorded (results.json) and its console table
    site            the executed course as a static site (Sphinx, MyST-NB, book theme)
    sphinx_offline  the site's Sphinx extension: Mermaid and MathJax served by the site
    claims          nothing hidden: every number in a lesson's prose shown by its run
    testing         `run.py test`: ruff, then pytest once per backend
    cache           `run.py seed-cache`: dataset files into the Keras cache

`cli`, `environment` and `notebooks` use only the standard library: run.py imports them
with whatever Python it was started with, before .venv exists.
"""

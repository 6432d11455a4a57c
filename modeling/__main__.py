"""`python -m modeling`: the `model` command, for environments without the console script."""

from modeling.cli import main

main()

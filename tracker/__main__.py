"""``python -m tracker`` is the ``tracker`` command (the demo starts its scheduler this way)."""

from tracker.cli.commands import main

if __name__ == "__main__":
    main()

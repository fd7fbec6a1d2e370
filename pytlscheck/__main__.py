"""``python -m pytlscheck``: the same as the ``pytlscheck`` command."""
import sys

from .cli import main

sys.exit(main())

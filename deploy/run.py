"""Start the reference deployment on loopback and keep it running until Ctrl-C (`make deploy`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deploy.loopback import main

if __name__ == "__main__":
    main()

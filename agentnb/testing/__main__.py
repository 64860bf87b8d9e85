"""``python -m agentnb.testing``: run the fake Messages API (same options as ``agentnb.testing.server``)."""

import sys

from agentnb.testing.server import main

sys.exit(main())

"""`python -m quarty.serving`: hypercorn, as deployed."""

import sys

from quarty.serving.hypercorn import main

sys.exit(main())

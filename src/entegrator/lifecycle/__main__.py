"""Print ``docs/lifecycle.md``, drawn from the transition table."""

import sys

from entegrator.lifecycle.diagram import render

sys.stdout.write(render())

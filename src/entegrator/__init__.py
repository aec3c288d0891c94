"""entegrator: Turkish e-document integrator platform."""

__version__ = "0.1.0"

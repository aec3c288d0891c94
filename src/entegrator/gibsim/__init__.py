"""A stand-in for GİB (tests and demos only): user list, envelope intake, status queries.

Delivery to the receiving integrator, system envelopes and application-response routing are
not built yet.
"""

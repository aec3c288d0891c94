"""End to end: GİB's network on one machine (the simulator and integrators talking over
loopback), whole documents from the sender's API to the receiver's inbox."""

"""What the tests share: fixtures and helpers for the platform, the simulator and the clock."""

"""semgate gateway."""

"""The DARTS suggestion service and the primitive list it shares with the DARTS trial."""

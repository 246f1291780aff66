"""Simulation of the plant built from the station models (`stations/`) and the plant file."""

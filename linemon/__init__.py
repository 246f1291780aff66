"""The `linemon` command: wires the plant file, the store, the simulator and the dashboard."""

"""linemon's pure core: records, plant configuration, shift calendar and the numbers (yield, SPC, OEE).

Nothing here imports Dash, paho, pyserial or a database driver, and importing it has no side effects.
"""

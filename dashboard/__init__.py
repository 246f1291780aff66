"""The Dash dashboard. It reads only through the store's query interface (never MQTT or serial)."""

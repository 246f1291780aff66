"""Equipment drivers: pure parsers per wire format (serial line/framed/poll, native MQTT, IPC-CFX)
and thin I/O shells around them (pyserial, paho-mqtt), feeding the ingest service."""

"""The offline demo: a loopback comment site, an SMTP sink and `monitor demo`, which wires them to the daemon."""

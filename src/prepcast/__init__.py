"""prepcast: publishing Mexico's preliminary election results (PREP).

The parts, from the institute to each difusor:

- :mod:`prepcast.election` — model, counting rules (named profiles), aggregates, synthetic elections.
- :mod:`prepcast.formats` — the PREP database (CSV) read and written in the institutes' layouts.
- :mod:`prepcast.package` — the signed package of each cut.
- :mod:`prepcast.site` — the public results site (prototipo navegable).
- :mod:`prepcast.distribution` — the institute's pusher to difusores over SFTP.
- :mod:`prepcast.difusor` — the difusor side: receive, verify, activate, serve.
- :mod:`prepcast.analytics` — access logs into the informe técnico.
"""

__version__ = "0.1.0"

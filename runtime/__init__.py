"""Process wiring: the command line, the worker's assembly, the dev stack, migrations and the CLI's API
client. The only layer that imports engine, api, workflows and activities together."""

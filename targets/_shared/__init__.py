# Shared code of the targets: payloads and the command-line launcher.

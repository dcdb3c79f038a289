# The `gan` command run as a child process: exit codes, --json output, located errors on stderr,
# and a tiny training run (train / resume / refuse / corrupt checkpoint / sample).
gan_add_test(test_cli SOURCES test_cli.cpp LABELS cli COST 30)

# Data-parallel training over c10d/Gloo on loopback (issue 14): equality with one process,
# resume with another number of ranks, killed/hung ranks, SIGINT, torchrun. Drives the real `gan`.
gan_add_test(test_distributed SOURCES test_distributed.cpp LABELS "train;distributed;faults" COST 80)

# A run's records: TensorBoard event files (read back with the setup venv's tensorboard),
# log.jsonl timestamps, the text log.
gan_add_test(test_tracking SOURCES test_tracking.cpp LABELS train COST 15)

# gan export: TorchScript generators, checked in C++ and from the setup venv's Python.
gan_add_test(test_export SOURCES test_export.cpp LABELS export COST 20)

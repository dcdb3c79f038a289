# Resume equality: 3 iterations + resume to 6 == 6 in one go, bitwise on CPU (the trainer's
# checkpoint holds every piece of state: weights, buffers, Adam, EMA, RNG, data position).
gan_add_test(test_resume SOURCES test_resume.cpp LABELS train)

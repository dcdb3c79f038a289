# Loss types minimax, hinge, wgan_gp: values on known logits, the gradient penalty's closed form.
# Links the plugin's sources directly (OBJECT library), so no plugin loading is involved.
gan_add_test(test_losses SOURCES test_losses.cpp LIBS gan_losses_obj LABELS losses)
